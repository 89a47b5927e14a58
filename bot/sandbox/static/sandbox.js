// The sandbox page's app: who is using it, the sidebar, the open conversation or App Home, the message box with
// slash commands, the clock, toasts, and polling /api/state (see docs/SANDBOX.md for the JSON it talks).

import { h, replaceChildren, uniqueId } from './dom.js';
import { directory, setDirectory, renderMrkdwn, userName } from './mrkdwn.js';
import { renderBlocks } from './blockkit.js';
import { ModalView } from './modal.js';

const POLL_INTERVAL_MS = 1000;
const PERSON_KEY = 'beacon-sandbox-as';
const SEEN_KEY = 'beacon-sandbox-seen';
const TRUST_TIME_ZONE = 'Europe/London';
const BOT_USER = 'U0BEACONBOT';

const app = {
  people: [],
  as: null, // the acting person's user id
  epoch: 0, // bumped when the person changes, so late answers for the previous person are dropped
  state: null,
  version: null,
  open: { kind: 'home', id: null }, // what the main pane shows: home, channel (id) or dm (id)
  shownJson: null, // what the pane shows, as JSON: unchanged content is not re-rendered
  homeOpened: false, // whether the server was told the person opened Home (it then sends app_home_opened)
  stickToBottom: false, // the next render scrolls to the bottom (after opening a conversation or sending)
  pinnedToBottom: false, // the person is at the bottom of the conversation
  presets: [],
  presetsFor: null,
  unread: {},
  sidebarJson: null,
  connected: true,
  lastPollError: null,
  modal: null,
};

const ui = {};

// --- Talking to the sandbox server ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, { offline = false } = {}) {
    super(message);
    this.offline = offline;
  }
}

async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method, cache: 'no-store', headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError('The sandbox server cannot be reached. Is `beacon sandbox` still running?', { offline: true });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok || (data && data.ok === false)) {
    throw new ApiError(data?.error || `The sandbox server answered ${response.status} ${response.statusText}.`);
  }
  return data ?? {};
}

const api = {
  get(path, params = {}) {
    const query = new URLSearchParams(app.as ? { as: app.as, ...params } : params);
    return request('GET', `${path}?${query}`);
  },
  post(path, body = {}) {
    return request('POST', path, { as: app.as, ...body });
  },
};

// --- Start -----------------------------------------------------------------------------------------------------

async function start() {
  findElements();
  setUpPersonChooser();
  setUpComposer();
  setUpClock();
  directory.openChannel = (id) => {
    if (app.state?.channels?.some((c) => c.id === id)) navigate({ kind: 'channel', id });
  };
  directory.openHome = () => navigate({ kind: 'home', id: null });
  app.modal = new ModalView({
    host: document.body, appRoot: ui.app, onSubmit: submitModal, onClose: closeModal,
    onAction: (element, block, value) => sendAction(
      { surface: 'modal', values: app.modal.collectValues() }, element, block, value),
  });
  app.people = await loadPeople();
  fillPersonChooser();
  const params = new URLSearchParams(window.location.search);
  app.open = viewFromParam(params.get('open'));
  const known = (id) => app.people.some((person) => person.id === id);
  const chosen = [params.get('as'), readStorage(PERSON_KEY)].find(known) || app.people[0]?.id;
  if (chosen) await usePerson(chosen);
  poll();
}

function findElements() {
  for (const el of document.querySelectorAll('[data-ui]')) ui[el.dataset.ui] = el;
  ui.scroller.addEventListener('scroll', () => { app.pinnedToBottom = isNearBottom(ui.scroller); });
}

async function loadPeople() {
  for (;;) {
    try {
      const { people } = await api.get('/api/people');
      setConnected(true);
      return people || [];
    } catch (error) {
      setConnected(false, error.message);
      await sleep(2000);
    }
  }
}

function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

function readStorage(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Private windows may refuse storage; the URL still remembers the person.
  }
}

// --- Who are you? -----------------------------------------------------------------------------------------------

function setUpPersonChooser() {
  ui.personSelect.addEventListener('change', () => usePerson(ui.personSelect.value));
}

function fillPersonChooser() {
  replaceChildren(ui.personSelect, app.people.map((person) => h('option', {
    value: person.id, text: `${person.real_name}, ${person.title || person.name} (${person.label})`,
  })));
}

async function usePerson(userId) {
  app.as = userId;
  app.epoch += 1;
  Object.assign(app, {
    state: null, version: null, shownJson: null, sidebarJson: null, unread: {}, presetsFor: null, homeOpened: false,
  });
  ui.personSelect.value = userId;
  writeStorage(PERSON_KEY, userId);
  app.modal.reset();
  const person = app.people.find((p) => p.id === userId);
  ui.personRole.textContent = person ? person.label : '';
  replaceChildren(ui.scroller, h('p', { class: 'pane-empty', text: 'Loading…' }));
  await refresh({ force: true }).catch(showError);
}

// --- Refreshing from the server ---------------------------------------------------------------------------------

let refreshing = null;
let refreshAgain = false;
let forceNext = false;

/** Fetch state and, when it changed (or `force`), what the pane shows. Calls made meanwhile run once more after. */
function refresh({ force = false } = {}) {
  forceNext = forceNext || force;
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      const forced = forceNext;
      forceNext = false;
      await refreshOnce(forced);
    } while (refreshAgain);
  })().finally(() => { refreshing = null; });
  return refreshing;
}

async function refreshOnce(force) {
  const epoch = app.epoch;
  const state = await api.get('/api/state');
  if (epoch !== app.epoch) return;
  setConnected(true);
  const changed = applyState(state);
  if (!changed && !force) return;
  await loadOpenView();
  await refreshUnread(epoch);
}

/** Take in a state from /api/state; true when its version is new. */
function applyState(state) {
  const changed = state.version !== app.version;
  app.state = state;
  app.version = state.version;
  setDirectory(state);
  ui.clockNow.textContent = state.now_label || state.now || '';
  if (state.now !== app.presetsFor) loadPresets(state.now);
  resolveOpenView();
  renderSidebar();
  renderPaneHeader();
  app.modal.update(state.modal || null);
  return changed;
}

async function poll() {
  try {
    if (app.as) await refresh();
    app.lastPollError = null;
  } catch (error) {
    if (error.offline) {
      setConnected(false, error.message);
    } else if (error.message !== app.lastPollError) {
      app.lastPollError = error.message; // said once, not every second
      showError(error);
    }
  }
  setTimeout(poll, POLL_INTERVAL_MS);
}

function setConnected(connected, reason) {
  if (connected === app.connected) return;
  app.connected = connected;
  document.body.classList.toggle('offline', !connected);
  if (connected) toast('Connected to the sandbox server again.');
  else toast(reason || 'The sandbox server cannot be reached.', { kind: 'error' });
}

function showError(error) {
  toast(error?.message || String(error), { kind: 'error' });
}

// --- Navigation ------------------------------------------------------------------------------------------------

function viewFromParam(value) {
  if (value === 'dm') return { kind: 'dm', id: null };
  if (value && /^[CG][A-Z0-9]+$/.test(value)) return { kind: 'channel', id: value };
  return { kind: 'home', id: null };
}

function viewParam(view) {
  return view.kind === 'channel' ? view.id : view.kind;
}

/** Point the open view at something this person has: their DM's id, or Home for a channel they are not in. */
function resolveOpenView() {
  const { state } = app;
  if (!state) return;
  if (app.open.kind === 'dm' && state.dm && app.open.id !== state.dm.id) {
    app.open = { kind: 'dm', id: state.dm.id };
  } else if (app.open.kind === 'channel' && !(state.channels || []).some((c) => c.id === app.open.id)) {
    app.open = { kind: 'home', id: null };
    app.shownJson = null;
  }
  updateUrl();
}

function navigate(view) {
  app.open = view;
  app.shownJson = null;
  app.homeOpened = false;
  app.stickToBottom = true;
  resolveOpenView();
  renderSidebar();
  renderPaneHeader();
  replaceChildren(ui.scroller, h('p', { class: 'pane-empty', text: 'Loading…' }));
  refresh({ force: true }).catch(showError);
  if (view.kind !== 'home') ui.composer.focus();
}

function updateUrl() {
  const params = new URLSearchParams(window.location.search);
  if (app.as) params.set('as', app.as);
  params.set('open', viewParam(app.open));
  const url = `${window.location.pathname}?${params}`;
  if (url !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, '', url);
}

// --- Sidebar ---------------------------------------------------------------------------------------------------

function renderSidebar() {
  const { state } = app;
  if (!state) return;
  const json = JSON.stringify([state.channels, state.dm, app.open, app.unread]);
  if (json === app.sidebarJson) return;
  app.sidebarJson = json;
  const channels = [...(state.channels || [])].sort((a, b) => a.name.localeCompare(b.name));
  replaceChildren(ui.sidebarNav,
    h('ul', { class: 'nav-list' },
      navItem({ kind: 'home', id: null }, 'nav-home', [
        h('span', { class: 'nav-icon', 'aria-hidden': 'true', text: '⌂' }), 'Home',
      ])),
    h('h2', { class: 'nav-heading', text: 'Channels' }),
    h('ul', { class: 'nav-list' }, channels.map((channel) => navItem({ kind: 'channel', id: channel.id },
      `nav-channel-${channel.id}`, [
        h('span', { class: 'nav-icon', 'aria-hidden': 'true', text: channel.is_private ? '🔒' : '#' }),
        channel.name, channel.is_private && h('span', { class: 'visually-hidden', text: ' (private)' }),
      ]))),
    channels.length === 0 && h('p', { class: 'nav-note', text: 'You are in no channels.' }),
    h('h2', { class: 'nav-heading', text: 'Direct messages' }),
    state.dm && h('ul', { class: 'nav-list' }, navItem({ kind: 'dm', id: state.dm.id }, 'nav-dm', [
      h('span', { class: 'nav-avatar', 'aria-hidden': 'true', text: 'B' }), state.dm.name || 'Beacon',
      h('span', { class: 'app-badge', text: 'APP' }),
    ])));
}

function navItem(view, testId, content) {
  const current = app.open.kind === view.kind && (view.kind !== 'channel' || app.open.id === view.id);
  const unread = view.id ? app.unread[view.id] || 0 : 0;
  return h('li', {}, h('button', {
    type: 'button', class: `nav-item${current ? ' is-current' : ''}${unread ? ' is-unread' : ''}`,
    'data-testid': testId, 'aria-current': current ? 'page' : null, onclick: () => navigate(view),
  }, content, unread > 0 && h('span', { class: 'unread-badge', text: String(unread), 'aria-label': `${unread} new` })));
}

/** Count messages in conversations not on screen, to show how many are new since the person last looked. */
async function refreshUnread(epoch) {
  const { state } = app;
  if (!state) return;
  const ids = [...(state.channels || []).map((c) => c.id), state.dm?.id].filter(Boolean);
  const seen = readSeen();
  const unread = {};
  await Promise.all(ids.filter((id) => id !== app.open.id).map(async (id) => {
    try {
      const { messages } = await api.get(`/api/conversation/${encodeURIComponent(id)}`);
      const count = (messages || []).length;
      const before = seen[`${app.as}:${id}`];
      if (before === undefined) markSeen(id, id === state.dm?.id ? 0 : count);
      unread[id] = Math.max(0, count - (before ?? (id === state.dm?.id ? 0 : count)));
    } catch {
      // Counting is a nicety: a failure here is not worth a toast.
    }
  }));
  if (epoch !== app.epoch) return;
  app.unread = unread;
  renderSidebar();
}

function readSeen() {
  try {
    return JSON.parse(readStorage(SEEN_KEY) || '{}');
  } catch {
    return {};
  }
}

function markSeen(conversationId, count) {
  const seen = readSeen();
  seen[`${app.as}:${conversationId}`] = count;
  writeStorage(SEEN_KEY, JSON.stringify(seen));
}

// --- Main pane ---------------------------------------------------------------------------------------------------

function renderPaneHeader() {
  const { state } = app;
  const channel = app.open.kind === 'channel' ? (state?.channels || []).find((c) => c.id === app.open.id) : null;
  let title;
  let subtitle;
  if (app.open.kind === 'home') {
    title = 'Beacon';
    subtitle = 'Home: what Beacon shows you in its App Home tab';
  } else if (app.open.kind === 'dm') {
    title = state?.dm?.name || 'Beacon';
    subtitle = 'Your direct messages with Beacon';
  } else {
    title = `${channel?.is_private ? '🔒 ' : '#'}${channel?.name || app.open.id}`;
    subtitle = channel?.is_private ? 'Private channel' : 'Channel';
  }
  ui.paneTitle.textContent = title;
  ui.paneSubtitle.textContent = subtitle;
  ui.composerForm.hidden = app.open.kind === 'home';
  ui.composerLabel.textContent = app.open.kind === 'channel' ? `Message #${channel?.name || ''}` : 'Message Beacon';
}

async function loadOpenView() {
  const epoch = app.epoch;
  const view = app.open;
  const stillOpen = () => epoch === app.epoch && app.open === view;
  if (view.kind === 'home') {
    // Opening Home makes the server send Beacon app_home_opened, as Slack does; re-reads after a change only read.
    const opening = !app.homeOpened;
    app.homeOpened = true;
    const { view: home } = await api.get('/api/home', opening ? { open: '1' } : {});
    if (stillOpen()) showHome(home);
  } else if (view.id) {
    const { messages } = await api.get(`/api/conversation/${encodeURIComponent(view.id)}`);
    if (stillOpen()) showConversation(messages || []);
  }
}

function showHome(view) {
  const json = JSON.stringify(['home', view, directory.users]);
  if (json === app.shownJson) return;
  const firstShow = app.shownJson === null;
  const scrollTop = ui.scroller.scrollTop;
  app.shownJson = json;
  const onAction = (element, block, value) => sendAction({ surface: 'home' }, element, block, value);
  replaceChildren(ui.scroller, h('section', { class: 'home', 'data-testid': 'home', 'aria-label': 'Beacon Home' },
    view && (view.blocks || []).length
      ? renderBlocks(view.blocks, { surface: 'home', onAction })
      : h('p', { class: 'pane-empty', text: 'Beacon has not published a Home tab for you yet.' })));
  ui.scroller.scrollTop = firstShow ? 0 : scrollTop;
}

function showConversation(messages) {
  const json = JSON.stringify([app.open.id, messages, directory.users]);
  if (json === app.shownJson) return;
  const scroller = ui.scroller;
  const atBottom = app.stickToBottom || app.shownJson === null || isNearBottom(scroller);
  const scrollTop = scroller.scrollTop;
  app.shownJson = json;
  app.stickToBottom = false;
  const list = h('div', {
    class: 'messages', 'data-testid': 'messages', role: 'region', 'aria-label': `Messages in ${ui.paneTitle.textContent}`,
  }, messages.length ? messageNodes(messages)
    : h('p', { class: 'pane-empty', text: 'No messages yet. Try a slash command below.' }));
  replaceChildren(scroller, list);
  scroller.scrollTop = atBottom ? scroller.scrollHeight : scrollTop;
  keepPinnedWhileLoading(list, atBottom);
  markSeen(app.open.id, messages.length);
  if (app.unread[app.open.id]) {
    app.unread = { ...app.unread, [app.open.id]: 0 };
    renderSidebar();
  }
}

function isNearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
}

// A list shown at the bottom stays there while its images load, until the person scrolls up.
const listObserver = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => {
  if (app.pinnedToBottom) ui.scroller.scrollTop = ui.scroller.scrollHeight;
});

function keepPinnedWhileLoading(list, pinned) {
  app.pinnedToBottom = pinned;
  listObserver?.disconnect();
  listObserver?.observe(list);
}

/** Messages oldest first, with day dividers, and thread replies indented under their parent. */
function messageNodes(messages) {
  const known = new Set(messages.map((m) => m.ts));
  const isReply = (m) => m.thread_ts && m.thread_ts !== m.ts && known.has(m.thread_ts);
  const replies = new Map();
  for (const message of messages.filter(isReply)) {
    if (!replies.has(message.thread_ts)) replies.set(message.thread_ts, []);
    replies.get(message.thread_ts).push(message);
  }
  const nodes = [];
  let lastDay = null;
  for (const message of messages.filter((m) => !isReply(m))) {
    const day = formatDay(message.ts);
    if (day !== lastDay) nodes.push(h('div', { class: 'day-divider', role: 'separator' }, h('span', { text: day })));
    lastDay = day;
    nodes.push(messageNode(message, replies.get(message.ts) || []));
  }
  return nodes;
}

function messageNode(message, replies = []) {
  const author = message.user_name || userName(message.user) || 'Someone';
  const isBot = message.is_bot || message.user === BOT_USER;
  return h('article', {
    class: `message${message.ephemeral ? ' is-ephemeral' : ''}${isBot ? ' is-bot' : ''}`,
    'data-testid': 'message', dataset: { ts: message.ts, ephemeral: message.ephemeral ? 'true' : null },
  },
  avatarNode(message, author, isBot),
  h('div', { class: 'message-main' },
    message.ephemeral && h('div', { class: 'ephemeral-label' },
      h('span', { 'aria-hidden': 'true', text: '👁 ' }), 'Only visible to you'),
    messageMeta(message, author, isBot),
    h('div', { class: 'message-body' }, messageBody(message)),
    (message.files || []).length > 0 && h('ul', { class: 'message-files' }, message.files.map(fileNode)),
    replies.length > 0 && threadNode(replies)));
}

function avatarNode(message, author, isBot) {
  return h('div', {
    class: `avatar${isBot ? ' avatar-bot' : ''}`, 'aria-hidden': 'true', text: initials(author),
    style: isBot ? null : `--avatar-hue: ${hue(message.user || author)}`,
  });
}

function messageMeta(message, author, isBot) {
  return h('div', { class: 'message-meta' },
    h('span', { class: 'message-author', text: author }),
    isBot && h('span', { class: 'app-badge', text: 'APP' }),
    h('time', {
      class: 'message-time', datetime: isoTime(message.ts), title: formatFull(message.ts), text: formatTime(message.ts),
    }),
    message.edited && h('span', { class: 'message-edited', text: '(edited)' }));
}

/** Blocks when the message has them; otherwise its text as mrkdwn. */
function messageBody(message) {
  if (!message.blocks || !message.blocks.length) {
    return h('div', { class: 'message-text' }, renderMrkdwn(message.text || ''));
  }
  const surface = { surface: message.ephemeral ? 'ephemeral' : 'message', channel: app.open.id, ts: message.ts };
  return renderBlocks(message.blocks, {
    surface: surface.surface, onAction: (element, block, value) => sendAction(surface, element, block, value),
  });
}

function threadNode(replies) {
  const count = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`;
  return h('div', { class: 'thread', role: 'group', 'aria-label': count },
    h('div', { class: 'thread-count', text: count }),
    replies.map((reply) => messageNode(reply)));
}

function fileNode(file) {
  const url = file.url || `/files/${encodeURIComponent(file.id)}`;
  return h('li', { class: 'message-file' },
    h('a', { href: url, download: file.name || true, class: 'file-link', 'data-testid': 'file-link' },
      h('span', { class: 'file-icon', 'aria-hidden': 'true', text: '📄' }),
      h('span', { class: 'file-name', text: file.title || file.name || file.id }),
      file.title && file.name && file.title !== file.name && h('span', { class: 'file-detail', text: file.name })));
}

function initials(name) {
  const words = String(name).trim().split(/\s+/).filter(Boolean);
  return ((words[0]?.[0] || '?') + (words.length > 1 ? words.at(-1)[0] : '')).toUpperCase();
}

function hue(text) {
  let total = 0;
  for (const char of String(text)) total = (total * 31 + char.charCodeAt(0)) % 360;
  return total;
}

// Message times are shown in the trust's time (Europe/London), like the clock.
const timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone: TRUST_TIME_ZONE, hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: TRUST_TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
});
const fullFormat = new Intl.DateTimeFormat('en-GB', { timeZone: TRUST_TIME_ZONE, dateStyle: 'full', timeStyle: 'short' });

function tsDate(ts) {
  const seconds = Number.parseFloat(ts);
  return Number.isFinite(seconds) ? new Date(seconds * 1000) : null;
}

function formatTime(ts) {
  const date = tsDate(ts);
  return date ? timeFormat.format(date) : '';
}

function formatDay(ts) {
  const date = tsDate(ts);
  return date ? dayFormat.format(date) : '';
}

function formatFull(ts) {
  const date = tsDate(ts);
  return date ? fullFormat.format(date) : null;
}

function isoTime(ts) {
  const date = tsDate(ts);
  return date ? date.toISOString() : null;
}

// --- Actions, submissions, closing -------------------------------------------------------------------------------

async function sendAction(surface, element, block, value) {
  const body = { surface: surface.surface };
  if (surface.channel) Object.assign(body, { channel: surface.channel, ts: surface.ts });
  Object.assign(body, { action_id: element.action_id ?? null, block_id: block?.block_id ?? null, value: value ?? null });
  if (surface.values) body.values = surface.values;
  try {
    await api.post('/api/action', body);
  } catch (error) {
    showError(error);
  }
  await refresh({ force: true }).catch(showError);
}

async function submitModal(values) {
  let result;
  try {
    result = await api.post('/api/submit', { values });
  } catch (error) {
    showError(error);
    result = { errors: {} };
  }
  refresh({ force: true }).catch(showError);
  return result;
}

async function closeModal() {
  try {
    await api.post('/api/close');
  } catch (error) {
    showError(error);
  }
  await refresh({ force: true }).catch(showError);
}

// --- The message box -------------------------------------------------------------------------------------------

const suggestions = { items: [], active: -1 };

function setUpComposer() {
  const input = ui.composer;
  ui.composerForm.addEventListener('submit', (event) => {
    event.preventDefault();
    sendCommand();
  });
  input.addEventListener('input', updateSuggestions);
  input.addEventListener('click', updateSuggestions);
  input.addEventListener('keydown', onComposerKeydown);
  input.addEventListener('blur', () => setTimeout(hideSuggestions, 150));
}

function onComposerKeydown(event) {
  const open = suggestions.items.length > 0;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    if (!open) updateSuggestions();
    if (!suggestions.items.length) return;
    event.preventDefault();
    const step = event.key === 'ArrowDown' ? 1 : -1;
    const count = suggestions.items.length;
    suggestions.active = (suggestions.active + step + count) % count;
    renderSuggestions();
  } else if (open && event.key === 'Tab') {
    event.preventDefault();
    acceptSuggestion(suggestions.items[Math.max(suggestions.active, 0)]);
  } else if (open && event.key === 'Enter' && suggestions.active >= 0) {
    event.preventDefault();
    acceptSuggestion(suggestions.items[suggestions.active]);
  } else if (open && event.key === 'Escape') {
    event.preventDefault();
    hideSuggestions();
  }
}

/** What to offer for the word being typed: commands at the start, people after @, channels after #. */
function suggestionsFor(text, caret) {
  const before = text.slice(0, caret);
  const commands = app.state?.commands || [];
  if (/^\/\S*$/.test(before)) {
    return commands.filter((c) => c.command.startsWith(before.toLowerCase())).map((c) => ({
      main: c.command, hint: c.usage_hint, detail: c.description, from: 0, to: caret, insert: `${c.command} `,
    }));
  }
  const person = before.match(/(?:^|\s)@([\w.-]*)$/);
  if (person) {
    const wanted = person[1].toLowerCase();
    const matches = (user) => [user.name, user.real_name].some((n) => (n || '').toLowerCase().includes(wanted));
    return Object.entries(directory.users)
      .filter(([id, user]) => id !== BOT_USER && matches(user))
      .sort((a, b) => (a[1].real_name || '').localeCompare(b[1].real_name || ''))
      .slice(0, 8)
      .map(([, user]) => ({
        main: `@${user.name}`, hint: user.real_name, from: caret - wanted.length - 1, to: caret, insert: `@${user.name} `,
      }));
  }
  const channel = before.match(/(?:^|\s)#([\w-]*)$/);
  if (channel) {
    const wanted = channel[1].toLowerCase();
    return Object.values(directory.channelNames).filter((name) => name.toLowerCase().includes(wanted)).sort().slice(0, 8)
      .map((name) => ({ main: `#${name}`, from: caret - wanted.length - 1, to: caret, insert: `#${name} ` }));
  }
  return [];
}

function updateSuggestions() {
  const input = ui.composer;
  suggestions.items = suggestionsFor(input.value, input.selectionStart ?? input.value.length);
  suggestions.active = -1;
  renderSuggestions();
  renderUsageHint();
}

function renderSuggestions() {
  const { items, active } = suggestions;
  const menu = ui.suggestions;
  menu.hidden = items.length === 0;
  ui.composer.setAttribute('aria-expanded', String(items.length > 0));
  replaceChildren(menu, items.map((item, index) => {
    const id = `suggestion-${index}`;
    return h('li', {
      id, role: 'option', class: `suggestion${index === active ? ' is-active' : ''}`, 'aria-selected': String(index === active),
      onmousedown: (event) => {
        event.preventDefault();
        acceptSuggestion(item);
      },
    },
    h('span', { class: 'suggestion-main', text: item.main }),
    item.hint && h('span', { class: 'suggestion-hint', text: item.hint }),
    item.detail && h('span', { class: 'suggestion-detail', text: item.detail }));
  }));
  if (active >= 0) ui.composer.setAttribute('aria-activedescendant', `suggestion-${active}`);
  else ui.composer.removeAttribute('aria-activedescendant');
}

function hideSuggestions() {
  suggestions.items = [];
  suggestions.active = -1;
  renderSuggestions();
}

function acceptSuggestion(item) {
  const input = ui.composer;
  input.value = input.value.slice(0, item.from) + item.insert + input.value.slice(item.to);
  const caret = item.from + item.insert.length;
  input.setSelectionRange(caret, caret);
  input.focus();
  hideSuggestions();
  renderUsageHint();
}

/** Under the box, once a command is typed: how to use it. */
function renderUsageHint() {
  const text = ui.composer.value;
  const name = text.match(/^(\/\S+)\s/)?.[1];
  const command = name && (app.state?.commands || []).find((c) => c.command === name);
  ui.composerHint.textContent = command
    ? `${command.command} ${command.usage_hint || ''}  ${command.description ? `· ${command.description}` : ''}`.trim()
    : 'Enter sends. Type / to see Beacon’s commands; @ and # offer people and channels.';
}

async function sendCommand() {
  const input = ui.composer;
  const text = input.value.trim();
  if (!text) return;
  if (!text.startsWith('/')) {
    toast('Only slash commands reach Beacon here: start with /, e.g. /nominate.', { kind: 'error' });
    return;
  }
  const channel = app.open.id;
  hideSuggestions();
  try {
    await api.post('/api/command', { channel, text }); // the server escapes @name and #channel as Slack does
  } catch (error) {
    showError(error);
    return;
  }
  input.value = '';
  renderUsageHint();
  app.stickToBottom = true;
  await refresh({ force: true }).catch(showError);
}

// --- The clock -------------------------------------------------------------------------------------------------

function setUpClock() {
  ui.clockPlusHour.addEventListener('click', () => moveClock({ advance_minutes: 60 }));
  ui.clockPlusDay.addEventListener('click', () => moveClock({ advance_minutes: 1440 }));
}

async function loadPresets(now) {
  app.presetsFor = now;
  try {
    const { presets } = await api.get('/api/clock/presets');
    if (app.presetsFor !== now) return;
    app.presets = presets || [];
  } catch {
    app.presets = [];
  }
  replaceChildren(ui.clockPresets, app.presets.map((preset, index) => h('button', {
    type: 'button', class: 'btn btn-small', 'data-testid': `clock-preset-${index}`, title: `Move the clock to ${preset.to}`,
    onclick: () => moveClock({ to: preset.to }),
  }, preset.label)));
}

async function moveClock(body) {
  const buttons = ui.clock.querySelectorAll('button');
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const result = await api.post('/api/clock', body);
    ui.clockNow.textContent = result.now_label || result.now || ui.clockNow.textContent;
    const ran = result.ran || [];
    const what = ran.length ? `Ran: ${ran.join(', ')}.` : 'Nothing was due to run.';
    toast(`Clock now ${result.now_label || result.now}. ${what}`);
  } catch (error) {
    showError(error);
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
  await refresh({ force: true }).catch(showError);
}

// --- Toasts ----------------------------------------------------------------------------------------------------

function toast(message, { kind = 'info', timeout = kind === 'error' ? 8000 : 5000 } = {}) {
  const id = uniqueId('toast');
  const role = kind === 'error' ? 'alert' : 'status';
  const node = h('div', { id, class: `toast toast-${kind}`, 'data-testid': 'toast', role },
    h('span', { class: 'toast-text', text: message }),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => node.remove() }, '×'));
  ui.toasts.append(node);
  setTimeout(() => node.remove(), timeout);
}

start().catch((error) => {
  console.error(error);
  toast(`The sandbox page could not start: ${error.message}`, { kind: 'error', timeout: 60000 });
});
