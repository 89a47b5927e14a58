// Slack text for the sandbox page: mrkdwn (escapes, <...> markup, *bold* and friends, quotes, code, emoji) and
// plain_text objects, rendered as DOM nodes. Text only ever reaches the page through text nodes.

import { h, fragment } from './dom.js';

/** Who and what the text may mention: filled from /api/state by the app. */
export const directory = { users: {}, channelNames: {}, me: null, openChannel: null, openHome: null };

export function setDirectory({ users, channel_names: channelNames, me }) {
  directory.users = users || {};
  directory.channelNames = channelNames || {};
  directory.me = me ? me.id : null;
}

export function userName(userId) {
  const user = directory.users[userId];
  return user ? (user.real_name || user.name || userId) : userId;
}

export function channelName(channelId) {
  return directory.channelNames[channelId] || channelId;
}

// --- Emoji ---------------------------------------------------------------------------------------------------

const EMOJI = {
  tada: '🎉', star: '⭐', star2: '🌟', heart: '❤️', blue_heart: '💙', green_heart: '💚', purple_heart: '💜',
  yellow_heart: '💛', white_check_mark: '✅', heavy_check_mark: '✔️', ballot_box_with_check: '☑️',
  warning: '⚠️', bar_chart: '📊', chart_with_upwards_trend: '📈', chart_with_downwards_trend: '📉',
  calendar: '📆', date: '📅', spiral_calendar_pad: '🗓️', spiral_calendar: '🗓️', ambulance: '🚑', clap: '👏',
  trophy: '🏆', sparkles: '✨', wave: '👋', bulb: '💡', speech_balloon: '💬', thought_balloon: '💭',
  pushpin: '📌', round_pushpin: '📍', hospital: '🏥', raised_hands: '🙌', handshake: '🤝', muscle: '💪',
  medal: '🏅', sports_medal: '🏅', first_place_medal: '🥇', second_place_medal: '🥈', third_place_medal: '🥉',
  mega: '📣', loudspeaker: '📢', announce: '📢', lock: '🔒', unlock: '🔓', key: '🔑', x: '❌',
  heavy_multiplication_x: '✖️', no_entry: '⛔', no_entry_sign: '🚫', hourglass: '⌛',
  hourglass_flowing_sand: '⏳', email: '📧', envelope: '✉️', incoming_envelope: '📨', inbox_tray: '📥',
  outbox_tray: '📤', memo: '📝', pencil: '📝', pencil2: '✏️', rocket: '🚀', sunny: '☀️', thumbsup: '👍',
  '+1': '👍', thumbsdown: '👎', '-1': '👎', ok_hand: '👌', pray: '🙏', smile: '😄', smiley: '😃',
  grinning: '😀', slightly_smiling_face: '🙂', blush: '😊', joy: '😂', wink: '😉', thinking_face: '🤔',
  heart_eyes: '😍', sunglasses: '😎', cry: '😢', fire: '🔥', eyes: '👀', bell: '🔔', no_bell: '🔕',
  question: '❓', exclamation: '❗', heavy_exclamation_mark: '❗', information_source: 'ℹ️', bookmark: '🔖',
  link: '🔗', paperclip: '📎', clipboard: '📋', file_folder: '📁', open_file_folder: '📂', file_cabinet: '🗄️',
  page_facing_up: '📄', newspaper: '📰', books: '📚', book: '📖', mag: '🔍', gear: '⚙️', wrench: '🔧',
  hammer_and_wrench: '🛠️', shield: '🛡️', house: '🏠', office: '🏢', world_map: '🗺️', earth_africa: '🌍',
  clock: '🕘', clock9: '🕘', alarm_clock: '⏰', stopwatch: '⏱️', timer_clock: '⏲️', coffee: '☕', cake: '🍰',
  birthday: '🎂', gift: '🎁', balloon: '🎈', confetti_ball: '🎊', party_popper: '🎉', crown: '👑', gem: '💎',
  rainbow: '🌈', seedling: '🌱', sunflower: '🌻', rose: '🌹', bouquet: '💐', dog: '🐶', cat: '🐱',
  bust_in_silhouette: '👤', busts_in_silhouette: '👥', people_holding_hands: '🧑‍🤝‍🧑', family: '👪',
  woman_health_worker: '👩‍⚕️', man_health_worker: '👨‍⚕️', health_worker: '🧑‍⚕️', stethoscope: '🩺',
  pill: '💊', syringe: '💉', adhesive_bandage: '🩹', helicopter: '🚁', rotating_light: '🚨',
  police_car: '🚓', fire_engine: '🚒', car: '🚗', red_circle: '🔴', large_green_circle: '🟢',
  large_yellow_circle: '🟡', large_blue_circle: '🔵', white_circle: '⚪', black_circle: '⚫',
  arrow_right: '➡️', arrow_left: '⬅️', arrow_up: '⬆️', arrow_down: '⬇️', arrows_counterclockwise: '🔄',
  repeat: '🔁', point_right: '👉', point_left: '👈', point_up: '☝️', point_down: '👇', heavy_plus_sign: '➕',
  heavy_minus_sign: '➖', new: '🆕', sos: '🆘', zap: '⚡', boom: '💥', hundred: '💯', '100': '💯',
  dart: '🎯', checkered_flag: '🏁', triangular_flag_on_post: '🚩', flag_gb: '🇬🇧', uk: '🇬🇧',
  count: '🔢', hash: '#️⃣', abc: '🔤', speaker: '🔈', mute: '🔇', loud_sound: '🔊', sound: '🔉',
  raising_hand: '🙋', bow: '🙇', hugging_face: '🤗', partying_face: '🥳', relieved: '😌', sweat_smile: '😅',
};
const SKIN_TONE = /^skin-tone-\d$/;

export function emojiFor(name) {
  if (SKIN_TONE.test(name)) return '';
  return Object.prototype.hasOwnProperty.call(EMOJI, name) ? EMOJI[name] : null;
}

/** An emoji as a node: the character (titled with its name), or `:name:` as text when it is not known. */
export function emojiNode(name, unicode) {
  const char = emojiFor(name) ?? (unicode ? codepointsToString(unicode) : null);
  if (char === null) return document.createTextNode(`:${name}:`);
  return h('span', { class: 'emoji', title: `:${name}:`, 'aria-label': name.replace(/_/g, ' '), role: 'img',
    text: char });
}

function codepointsToString(unicode) {
  try {
    return String.fromCodePoint(...String(unicode).split('-').map((hex) => parseInt(hex, 16)));
  } catch {
    return null;
  }
}

/** Text with `:emoji:` codes turned into emoji nodes. */
export function textWithEmoji(text) {
  const nodes = [];
  const pattern = /:([a-z0-9_+'-]+):/g;
  let last = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const char = emojiFor(match[1]);
    if (char === null) {
      pattern.lastIndex = match.index + match[0].length - 1; // the closing colon may open the next code
      continue;
    }
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    if (char) nodes.push(emojiNode(match[1]));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

// --- Escapes and <...> markup --------------------------------------------------------------------------------

/** Undo Slack's three escapes. `&amp;` goes last so that `&amp;lt;` stays `&lt;`. */
export function decodeEntities(text) {
  return String(text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** A chip for a mention: `kind` is user, channel, broadcast or usergroup. */
export function mentionChip(kind, label, { isMe = false, channelId = null } = {}) {
  const chip = h('span', { class: `mention mention-${kind}${isMe ? ' mention-me' : ''}`, text: label });
  if (kind === 'channel' && channelId && directory.openChannel) {
    chip.classList.add('mention-link');
    chip.tabIndex = 0;
    chip.setAttribute('role', 'link');
    const open = () => directory.openChannel(channelId);
    chip.addEventListener('click', open);
    chip.addEventListener('keydown', (event) => { if (event.key === 'Enter') open(); });
  }
  return chip;
}

export function userMention(userId, fallbackLabel) {
  const known = directory.users[userId];
  const label = known ? userName(userId) : (fallbackLabel ? fallbackLabel.replace(/^@/, '') : userId);
  return mentionChip('user', `@${label}`, { isMe: userId === directory.me });
}

export function channelMention(channelId, fallbackLabel) {
  const label = directory.channelNames[channelId] || fallbackLabel || channelId;
  return mentionChip('channel', `#${label.replace(/^#/, '')}`, { channelId });
}

export function broadcastMention(range) {
  return mentionChip('broadcast', `@${range}`);
}

const SAFE_LINK = /^(https?:\/\/|mailto:|\/files\/)/i;

/** A link that opens in a new tab; only http(s), mailto and the sandbox's own /files/ are linked. */
export function safeLink(url, children) {
  if (!SAFE_LINK.test(url)) return null;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, children);
}

/** A deep link into Slack (`slack://app?...&tab=home`): in the sandbox, it opens Beacon's Home. */
function appHomeLink(label) {
  const link = h('a', { href: '#', class: 'app-home-link' }, textWithEmoji(label));
  link.addEventListener('click', (event) => { event.preventDefault(); directory.openHome(); });
  return link;
}

/** The node for one `<...>` sequence (without the brackets, still escaped); unknown ones show as typed. */
function angleMarkup(inner) {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? null : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith('@') && /^@[UW][A-Z0-9]+$/.test(target)) return userMention(target.slice(1), label);
  if (target.startsWith('#') && /^#[CGD][A-Z0-9]+$/.test(target)) return channelMention(target.slice(1), label);
  if (target.startsWith('!')) {
    const special = specialMention(target.slice(1), label);
    if (special) return special;
  }
  if (/^slack:\/\/app\?/.test(target) && directory.openHome) return appHomeLink(label ?? 'Beacon');
  const link = safeLink(decodeEntities(target), textWithEmoji(label ?? decodeEntities(target)));
  return link ?? document.createTextNode(`<${decodeEntities(inner)}>`);
}

function specialMention(command, label) {
  const name = command.split('^')[0];
  if (['here', 'channel', 'everyone'].includes(name)) return broadcastMention(name);
  if (name === 'subteam') return mentionChip('usergroup', label || `@${command.split('^')[1] || 'group'}`);
  if (name === 'date') return document.createTextNode(label ?? '');
  return label ? document.createTextNode(label) : null;
}

// --- mrkdwn --------------------------------------------------------------------------------------------------

// Code spans and <...> markup are cut out first and stand in the text as one private-use character each, so
// that *bold* around a mention works and an underscore inside a URL never starts italics.
const PLACEHOLDER_BASE = 0xe000;
const PLACEHOLDERS = /[\ue000-\uf8ff]/g;
const ATOMS = /`([^`\n]+)`|<([^<>\n]+)>/g;
const STYLES = [
  { tag: 'strong', pattern: /(?<![\p{L}\p{N}*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\p{L}\p{N}*])/u },
  { tag: 'em', pattern: /(?<![\p{L}\p{N}_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\p{L}\p{N}_])/u },
  { tag: 's', pattern: /(?<![\p{L}\p{N}~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\p{L}\p{N}~])/u },
];

/** Render a mrkdwn string (as Slack sends it: escaped) into a fragment of DOM nodes. */
export function renderMrkdwn(text) {
  const source = String(text ?? '').replace(PLACEHOLDERS, '');
  const parts = source.split('```');
  if (parts.length % 2 === 0) parts.splice(-2, 2, `${parts.at(-2)}\`\`\`${parts.at(-1)}`); // unmatched fence
  const out = fragment();
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      out.append(h('pre', { class: 'md-pre' }, renderAtomsOnly(part.replace(/^\n/, '').replace(/\n$/, ''))));
    } else {
      let body = part;
      if (index > 0) body = body.replace(/^\n/, '');
      if (index < parts.length - 1) body = body.replace(/\n$/, '');
      if (body) out.append(renderLines(body));
    }
  });
  return out;
}

/** Lines of mrkdwn: runs of `>` lines become quotes (`>>>` quotes the rest), the others are joined by <br>. */
function renderLines(text) {
  const out = fragment();
  const lines = text.split('\n');
  let plain = [];
  const flushPlain = () => {
    if (plain.length) out.append(joinLines(plain));
    plain = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (line.startsWith('>>>')) {
      flushPlain();
      out.append(h('blockquote', { class: 'md-quote' }, joinLines([line.slice(3).replace(/^ /, ''),
        ...lines.slice(i + 1)])));
      return out;
    }
    if (line.startsWith('>')) {
      flushPlain();
      const quoted = [];
      for (; i < lines.length && lines[i].startsWith('>') && !lines[i].startsWith('>>>'); i += 1) {
        quoted.push(lines[i].slice(1).replace(/^ /, ''));
      }
      i -= 1;
      out.append(h('blockquote', { class: 'md-quote' }, joinLines(quoted)));
    } else {
      plain.push(line);
    }
  }
  flushPlain();
  return out;
}

function joinLines(lines) {
  const out = fragment();
  lines.forEach((line, index) => {
    if (index > 0) out.append(h('br'));
    out.append(renderInline(line));
  });
  return out;
}

/** One line: code spans and markup become placeholders, then *bold*, _italic_ and ~strike~ are applied. */
function renderInline(line) {
  const atoms = [];
  const withPlaceholders = line.replace(ATOMS, (match, code, markup) => {
    atoms.push(code !== undefined ? () => h('code', { class: 'md-code' }, renderAtomsOnly(code)) :
      () => angleMarkup(markup));
    return String.fromCharCode(PLACEHOLDER_BASE + atoms.length - 1);
  });
  return fragment(renderStyled(withPlaceholders, atoms));
}

function renderStyled(text, atoms) {
  const nodes = [];
  let rest = text;
  while (rest) {
    const found = earliestStyle(rest);
    if (!found) break;
    const { style, match } = found;
    const start = match.index;
    nodes.push(...expandText(rest.slice(0, start), atoms));
    nodes.push(h(style.tag, {}, renderStyled(match[1], atoms)));
    rest = rest.slice(start + match[0].length);
  }
  nodes.push(...expandText(rest, atoms));
  return nodes;
}

function earliestStyle(text) {
  let best = null;
  for (const style of STYLES) {
    const match = style.pattern.exec(text);
    if (match && (!best || match.index < best.match.index)) best = { style, match };
  }
  return best;
}

/** Plain text with placeholders: placeholders become their nodes, the rest is decoded and gets its emoji. */
function expandText(text, atoms) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDERS)) {
    if (match.index > last) nodes.push(...textWithEmoji(decodeEntities(text.slice(last, match.index))));
    const atom = atoms[match[0].charCodeAt(0) - PLACEHOLDER_BASE];
    if (atom) nodes.push(atom());
    last = match.index + 1;
  }
  if (last < text.length) nodes.push(...textWithEmoji(decodeEntities(text.slice(last))));
  return nodes;
}

/** Code: markup such as mentions and links still shows as Slack shows it; no styles, no emoji. */
function renderAtomsOnly(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/<([^<>\n]+)>/g)) {
    if (match.index > last) nodes.push(decodeEntities(text.slice(last, match.index)));
    nodes.push(angleMarkup(match[1]));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(decodeEntities(text.slice(last)));
  return fragment(nodes);
}

// --- Text objects --------------------------------------------------------------------------------------------

/** A plain_text object: escapes undone, emoji codes shown unless `emoji: false`. */
export function renderPlainText(object) {
  const text = decodeEntities(typeof object === 'string' ? object : object?.text ?? '');
  return object && object.emoji === false ? fragment(text) : fragment(textWithEmoji(text));
}

/** A text object of either type (a bare string counts as plain text). */
export function renderText(object) {
  if (!object) return fragment();
  if (typeof object === 'object' && object.type === 'mrkdwn') return renderMrkdwn(object.text);
  return renderPlainText(object);
}

/** A text object as a plain string, for places that hold no markup (options, titles, aria labels). */
export function plainTextOf(object) {
  if (!object) return '';
  const text = typeof object === 'string' ? object : object.text ?? '';
  const flat = typeof object === 'object' && object.type === 'mrkdwn'
    ? text.replace(/<([^<>|]+)\|([^<>]+)>/g, '$2').replace(/<@([A-Z0-9]+)>/g, (m, id) => `@${userName(id)}`)
      .replace(/<#([A-Z0-9]+)>/g, (m, id) => `#${channelName(id)}`).replace(/<!(here|channel|everyone)>/g, '@$1')
      .replace(/(^|\s)[*_~]+|[*_~]+(?=\s|$)/g, '$1')
    : text;
  return decodeEntities(flat).replace(/:([a-z0-9_+'-]+):/g, (code, name) => emojiFor(name) ?? code);
}
