// Block Kit for the sandbox page: blocks, interactive elements and their values, and the confirm dialog.
//
// renderBlocks(blocks, ctx) builds DOM for messages, the App Home and modals. `ctx` holds:
//   onAction(element, block, value) -> Promise   called when someone uses an element that dispatches
//   inputs: Map | null                           modals pass a Map; every input block registers itself there as
//                                                {block, element, control, errorSlot, wrapper, dirty}
// A control is {node, get(), set(value)}: get() gives the value in the shape /api/action and /api/submit take.

import { h, uniqueId } from './dom.js';
import {
  directory, renderText, renderPlainText, plainTextOf, userMention, channelMention, broadcastMention,
  mentionChip, emojiNode, safeLink, userName,
} from './mrkdwn.js';

const BOT_USER = 'U0BEACONBOT';

export function renderBlocks(blocks, ctx = {}) {
  const container = h('div', { class: 'blocks' });
  for (const block of blocks || []) container.append(renderBlockSafely(block, ctx));
  return container;
}

function renderBlockSafely(block, ctx) {
  const type = block && block.type;
  const render = Object.prototype.hasOwnProperty.call(BLOCK_RENDERERS, type) ? BLOCK_RENDERERS[type] : null;
  if (!render) return unsupported('block', type);
  try {
    return render(block, ctx);
  } catch (error) {
    console.warn(`Could not render a ${type} block`, error, block);
    return unsupported('block', type);
  }
}

function unsupported(what, type) {
  return h('div', { class: 'bk-unsupported', text: `[unsupported ${what}: ${type ?? 'unknown'}]` });
}

const BLOCK_RENDERERS = {
  header: (block) => h('h3', { class: 'bk-header' }, renderPlainText(block.text)),
  divider: () => h('hr', { class: 'bk-divider' }),
  section: renderSection,
  context: renderContext,
  image: renderImageBlock,
  actions: renderActions,
  rich_text: (block) => h('div', { class: 'bk-rich-text' }, (block.elements || []).map(renderRichTextPart)),
  input: renderInputBlock,
};

// --- Layout blocks -------------------------------------------------------------------------------------------

function renderSection(block, ctx) {
  const body = h('div', { class: 'bk-section-body' },
    block.text && h('div', { class: 'bk-text' }, renderText(block.text)),
    block.fields && h('div', { class: 'bk-fields' },
      block.fields.map((field) => h('div', { class: 'bk-field' }, renderText(field)))));
  const accessory = block.accessory && h('div', { class: 'bk-accessory' }, renderAccessory(block.accessory, block, ctx));
  return h('div', { class: 'bk-section' }, body, accessory);
}

function renderAccessory(element, block, ctx) {
  if (element.type === 'image') {
    return h('img', { class: 'bk-accessory-image', src: element.image_url, alt: element.alt_text || '' });
  }
  return renderElement(element, block, ctx);
}

function renderContext(block) {
  return h('div', { class: 'bk-context' }, (block.elements || []).map((element) => (
    element.type === 'image'
      ? h('img', { class: 'bk-context-image', src: element.image_url, alt: element.alt_text || '', title: element.alt_text })
      : h('span', { class: 'bk-context-text' }, renderText(element)))));
}

function renderImageBlock(block) {
  const url = block.image_url || block.slack_file?.url;
  return h('figure', { class: 'bk-image' },
    block.title && h('figcaption', {}, renderPlainText(block.title)),
    url ? h('img', { src: url, alt: block.alt_text || '', loading: 'lazy' })
      : h('div', { class: 'bk-image-missing', text: block.alt_text || 'Image' }));
}

function renderActions(block, ctx) {
  return h('div', { class: 'bk-actions' }, (block.elements || []).map((element) => renderElement(element, block, ctx)));
}

// --- Interactive elements ------------------------------------------------------------------------------------

/** An element in an actions block or a section accessory: every change dispatches an action. */
function renderElement(element, block, ctx) {
  if (element.type === 'button') return renderButton(element, block, ctx);
  if (element.type === 'overflow') return renderOverflow(element, block, ctx);
  if (!CONTROL_FACTORIES[element.type]) return unsupported('element', element.type);
  const control = createControl(element, {
    onCommit: (value) => dispatch(ctx, element, block, value),
    label: element.placeholder ? plainTextOf(element.placeholder) : `Choose (${element.action_id || element.type})`,
  });
  return control.node;
}

async function dispatch(ctx, element, block, value) {
  if (element.confirm && !(await askToConfirm(element.confirm))) return;
  if (ctx.onAction) await ctx.onAction(element, block, value);
}

function renderButton(element, block, ctx) {
  const style = element.style ? ` bk-button-${element.style}` : '';
  const button = h('button', {
    type: 'button', class: `bk-button${style}`, dataset: { actionId: element.action_id ?? '' },
    'aria-label': element.accessibility_label,
  }, renderPlainText(element.text));
  button.addEventListener('click', async () => {
    if (element.url) openLink(element.url);
    button.disabled = true;
    try {
      await dispatch(ctx, element, block, null);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function openLink(url) {
  const link = safeLink(url, '');
  if (link) window.open(link.href, '_blank', 'noopener');
}

/** An overflow menu as a compact select: choosing an option dispatches its value, then the menu resets. */
function renderOverflow(element, block, ctx) {
  const select = h('select', { class: 'bk-overflow', dataset: { actionId: element.action_id ?? '' },
    'aria-label': 'More actions', title: 'More actions' },
  h('option', { value: '', text: '⋯' }),
  (element.options || []).map((option) => h('option', { value: option.value ?? '', text: plainTextOf(option.text) })));
  select.addEventListener('change', () => {
    const option = (element.options || []).find((o) => (o.value ?? '') === select.value);
    select.selectedIndex = 0;
    if (!option) return;
    if (option.url) openLink(option.url);
    dispatch(ctx, element, block, option.value ?? null);
  });
  return select;
}

// --- Controls: elements that hold a value --------------------------------------------------------------------

/**
 * A control for `element`. Options: id (for the label), label (aria-label when there is no <label>),
 * describedBy, onInput(value) on every change, onCommit(value) when the change is done (Enter in a text
 * field, a choice in the others).
 */
export function createControl(element, options = {}) {
  const factory = CONTROL_FACTORIES[element.type];
  if (!factory) {
    return { node: unsupported('element', element.type), get: () => null, set: () => {}, unsupported: true };
  }
  const control = factory(element, { id: options.id || uniqueId(element.type), ...options });
  const focusable = control.focusTarget || control.node;
  if (element.action_id !== undefined) (control.actionTarget || control.node).dataset.actionId = element.action_id;
  if (options.describedBy) focusable.setAttribute('aria-describedby', options.describedBy);
  if (element.focus_on_load) focusable.dataset.focusOnLoad = 'true';
  return control;
}

const CONTROL_FACTORIES = {
  plain_text_input: (element, options) => textControl(element, options,
    element.multiline ? 'textarea' : 'text', element.initial_value),
  rich_text_input: (element, options) => textControl(element, options, 'textarea',
    richTextToPlain(element.initial_value)),
  number_input: (element, options) => textControl(element, options, 'number', element.initial_value),
  email_text_input: (element, options) => textControl(element, options, 'email', element.initial_value),
  url_text_input: (element, options) => textControl(element, options, 'url', element.initial_value),
  static_select: (element, options) => selectControl(element, options, optionChoices(element), false),
  external_select: (element, options) => selectControl(element, options, optionChoices(element), false),
  multi_static_select: (element, options) => selectControl(element, options, optionChoices(element), true),
  multi_external_select: (element, options) => selectControl(element, options, optionChoices(element), true),
  users_select: (element, options) => selectControl(element, options, userChoices(element), false),
  multi_users_select: (element, options) => selectControl(element, options, userChoices(element), true),
  conversations_select: (element, options) => selectControl(element, options, channelChoices(element), false),
  multi_conversations_select: (element, options) => selectControl(element, options, channelChoices(element), true),
  channels_select: (element, options) => selectControl(element, options, channelChoices(element), false),
  multi_channels_select: (element, options) => selectControl(element, options, channelChoices(element), true),
  datepicker: (element, options) => pickerControl(element, options, 'date', element.initial_date),
  timepicker: (element, options) => pickerControl(element, options, 'time', element.initial_time),
  datetimepicker: datetimeControl,
  checkboxes: (element, options) => choiceGroupControl(element, options, 'checkbox'),
  radio_buttons: (element, options) => choiceGroupControl(element, options, 'radio'),
};

function textControl(element, options, kind, initial) {
  const common = {
    id: options.id, class: 'bk-text-input', placeholder: plainTextOf(element.placeholder) || null,
    minlength: element.min_length, maxlength: element.max_length, 'aria-label': options.label,
  };
  let field;
  if (kind === 'textarea') {
    field = h('textarea', { ...common, rows: element.type === 'rich_text_input' ? 4 : 5 });
  } else {
    field = h('input', { ...common, type: kind, autocomplete: 'off' });
    if (kind === 'number') {
      field.step = element.is_decimal_allowed ? 'any' : '1';
      if (element.min_value !== undefined) field.min = element.min_value;
      if (element.max_value !== undefined) field.max = element.max_value;
      field.inputMode = element.is_decimal_allowed ? 'decimal' : 'numeric';
    }
  }
  field.value = initial ?? '';
  const get = () => (field.value === '' ? null : field.value);
  field.addEventListener('input', () => options.onInput?.(get()));
  const triggers = element.dispatch_action_config?.trigger_actions_on || ['on_enter_pressed'];
  if (triggers.includes('on_character_entered')) {
    let timer = null;
    field.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => options.onCommit?.(get()), 500);
    });
  }
  if (triggers.includes('on_enter_pressed') && options.onCommit) {
    field.addEventListener('keydown', (event) => {
      const enter = event.key === 'Enter' && (kind !== 'textarea' || event.ctrlKey || event.metaKey);
      if (!enter) return;
      event.preventDefault();
      options.onCommit(get());
    });
  }
  return { node: field, get, set: (value) => { field.value = value ?? ''; } };
}

function pickerControl(element, options, kind, initial) {
  const field = h('input', { type: kind, id: options.id, class: 'bk-picker', value: initial ?? '',
    'aria-label': options.label });
  const get = () => field.value || null;
  field.addEventListener('change', () => {
    options.onInput?.(get());
    options.onCommit?.(get());
  });
  return { node: field, get, set: (value) => { field.value = value ?? ''; } };
}

function datetimeControl(element, options) {
  const field = h('input', { type: 'datetime-local', id: options.id, class: 'bk-picker', 'aria-label': options.label });
  const set = (seconds) => { field.value = seconds === null || seconds === undefined ? '' : localDateTime(seconds); };
  const get = () => (field.value ? Math.floor(new Date(field.value).getTime() / 1000) : null);
  set(element.initial_date_time);
  field.addEventListener('change', () => {
    options.onInput?.(get());
    options.onCommit?.(get());
  });
  return { node: field, get, set };
}

function localDateTime(seconds) {
  const date = new Date(Number(seconds) * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// Choices for selects: {groups: [{label, choices: [{value, label}]}]} (a single group has label null).

function optionChoices(element) {
  const toChoice = (option) => ({ value: option.value ?? '', label: plainTextOf(option.text) });
  if (element.option_groups) {
    return {
      groups: element.option_groups.map((group) => ({
        label: plainTextOf(group.label), choices: (group.options || []).map(toChoice),
      })),
      initial: initialOptionValues(element),
    };
  }
  return {
    groups: [{ label: null, choices: (element.options || []).map(toChoice) }], initial: initialOptionValues(element),
  };
}

function initialOptionValues(element) {
  if (element.initial_options) return element.initial_options.map((o) => o.value);
  return element.initial_option ? [element.initial_option.value] : [];
}

function userChoices(element) {
  const initial = [element.initial_user, ...(element.initial_users || [])].filter(Boolean);
  const ids = Object.keys(directory.users).filter((id) => id !== BOT_USER && !directory.users[id].is_bot);
  for (const id of initial) if (!ids.includes(id)) ids.push(id);
  const choices = ids.map((id) => ({ value: id, label: userName(id) }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return { groups: [{ label: null, choices }], initial };
}

function channelChoices(element) {
  const initial = [element.initial_conversation, element.initial_channel, ...(element.initial_conversations || []),
    ...(element.initial_channels || [])].filter(Boolean);
  const ids = Object.keys(directory.channelNames);
  for (const id of initial) if (!ids.includes(id)) ids.push(id);
  const choices = ids.map((id) => ({ value: id, label: `#${directory.channelNames[id] || id}` }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return { groups: [{ label: null, choices }], initial };
}

/** A native select; multi selects toggle an option per click (no Ctrl needed) and stay keyboard friendly. */
function selectControl(element, options, { groups, initial }, multiple) {
  const optionNodes = (choices) => choices.map((choice) => h('option', {
    value: choice.value, text: choice.label, selected: initial.includes(choice.value),
  }));
  const count = groups.reduce((n, group) => n + group.choices.length + (group.label ? 1 : 0), 0);
  const select = h('select', {
    id: options.id, class: multiple ? 'bk-select bk-multi-select' : 'bk-select', multiple,
    size: multiple ? Math.max(2, Math.min(count, 6)) : null, 'aria-label': options.label,
  },
  !multiple && h('option', { value: '', text: plainTextOf(element.placeholder) || 'Choose an option' }),
  groups.map((group) => (group.label ? h('optgroup', { label: group.label }, optionNodes(group.choices))
    : optionNodes(group.choices))));
  if (!multiple && initial.length === 0) select.value = '';
  const get = () => (multiple ? [...select.selectedOptions].map((o) => o.value) : select.value || null);
  const set = (value) => {
    if (multiple) {
      const wanted = new Set(value || []);
      for (const option of select.options) option.selected = wanted.has(option.value);
    } else {
      select.value = value ?? '';
    }
  };
  select.addEventListener('change', () => {
    options.onInput?.(get());
    options.onCommit?.(get());
  });
  if (!multiple) return { node: select, get, set };
  toggleOptionsOnClick(select, element.max_selected_items);
  return withChosenSummary(select, get, set);
}

/** A multi select with a line under it naming what is chosen (a long list may have it scrolled out of view). */
function withChosenSummary(select, get, set) {
  const summary = h('div', { class: 'bk-chosen', 'aria-live': 'polite' });
  const describe = () => {
    const names = [...select.selectedOptions].map((option) => option.textContent);
    summary.textContent = names.length ? `Chosen: ${names.join(', ')}`
      : 'None chosen yet: click to choose, click again to remove.';
  };
  select.addEventListener('change', describe);
  describe();
  const node = h('div', { class: 'bk-multi' }, select, summary);
  return {
    node, get, actionTarget: select, focusTarget: select,
    set: (value) => {
      set(value);
      describe();
    },
  };
}

function toggleOptionsOnClick(select, maxSelected) {
  select.addEventListener('mousedown', (event) => {
    const option = event.target.closest('option');
    if (!option || event.shiftKey) return;
    event.preventDefault();
    const full = maxSelected && select.selectedOptions.length >= maxSelected;
    if (!option.selected && full) return;
    option.selected = !option.selected;
    select.focus();
    select.dispatchEvent(new Event('input', { bubbles: true }));
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

/** Checkboxes or radio buttons: a group of native inputs, each with its label and description. */
function choiceGroupControl(element, options, kind) {
  const name = uniqueId(kind);
  const initial = initialOptionValues(element);
  const inputs = [];
  const items = (element.options || []).map((option) => {
    const id = uniqueId(kind);
    const input = h('input', { type: kind, id, name, value: option.value ?? '', checked: initial.includes(option.value) });
    inputs.push(input);
    return h('div', { class: 'bk-choice' }, input,
      h('label', { for: id },
        h('span', { class: 'bk-choice-text' }, renderText(option.text)),
        option.description && h('span', { class: 'bk-choice-description' }, renderText(option.description))));
  });
  const group = h('div', {
    id: options.id, class: `bk-choices bk-${kind}es`, role: kind === 'radio' ? 'radiogroup' : 'group',
    'aria-label': options.labelledBy ? null : options.label, 'aria-labelledby': options.labelledBy,
  }, items);
  const get = () => (kind === 'radio'
    ? inputs.find((input) => input.checked)?.value ?? null
    : inputs.filter((input) => input.checked).map((input) => input.value));
  const set = (value) => {
    const wanted = new Set(kind === 'radio' ? [value] : value || []);
    for (const input of inputs) input.checked = wanted.has(input.value);
  };
  group.addEventListener('change', () => {
    options.onInput?.(get());
    options.onCommit?.(get());
  });
  return { node: group, get, set, focusTarget: inputs[0] || group };
}

// --- Input blocks --------------------------------------------------------------------------------------------

const GROUP_TYPES = new Set(['checkboxes', 'radio_buttons']);

/** An input block: label (tied to the control), optional marker, the control, a slot for errors, the hint. */
function renderInputBlock(block, ctx) {
  const element = block.element || {};
  const id = uniqueId('input');
  const labelId = `${id}-label`;
  const hintId = block.hint ? `${id}-hint` : null;
  const labelContent = [
    renderPlainText(block.label), block.optional && h('span', { class: 'bk-optional', text: ' (optional)' }),
  ];
  const label = GROUP_TYPES.has(element.type)
    ? h('div', { id: labelId, class: 'bk-label' }, labelContent)
    : h('label', { id: labelId, for: id, class: 'bk-label' }, labelContent);
  const entry = { block, element, dirty: false, control: null, errorSlot: h('div', { class: 'bk-error-slot' }) };
  entry.control = createControl(element, {
    id, labelledBy: labelId, describedBy: hintId,
    onInput: () => { entry.dirty = true; },
    onCommit: block.dispatch_action ? (value) => dispatch(ctx, element, block, value) : null,
  });
  entry.wrapper = h('div', { class: 'bk-input', dataset: { blockId: block.block_id ?? '' } },
    label, entry.control.node, entry.errorSlot,
    block.hint && h('div', { id: hintId, class: 'bk-hint' }, renderPlainText(block.hint)));
  if (ctx.inputs) ctx.inputs.set(inputKey(block), entry);
  return entry.wrapper;
}

/** The key an input block's value is submitted under: its block_id (Beacon always sets one). */
export function inputKey(block) {
  return block.block_id ?? block.element?.action_id ?? '';
}

// --- Rich text -----------------------------------------------------------------------------------------------

function renderRichTextPart(part) {
  switch (part.type) {
    case 'rich_text_section':
      return h('div', { class: 'rt-section' }, (part.elements || []).map(renderRichTextElement));
    case 'rich_text_list': {
      const tag = part.style === 'ordered' ? 'ol' : 'ul';
      const indent = Math.min(Number(part.indent) || 0, 8);
      return h(tag, {
        class: `rt-list rt-indent-${indent}${part.border ? ' rt-border' : ''}`,
        start: tag === 'ol' && part.offset ? Number(part.offset) + 1 : null,
        style: `--rt-indent: ${indent}`,
      }, (part.elements || []).map((item) => h('li', {}, (item.elements || []).map(renderRichTextElement))));
    }
    case 'rich_text_quote':
      return h('blockquote', { class: 'rt-quote' }, (part.elements || []).map(renderRichTextElement));
    case 'rich_text_preformatted':
      return h('pre', { class: 'rt-pre' }, (part.elements || []).map(renderRichTextElement));
    default:
      return unsupported('rich text part', part.type);
  }
}

function renderRichTextElement(element) {
  switch (element.type) {
    case 'text': return styled(document.createTextNode(element.text ?? ''), element.style);
    case 'link': return styled(safeLink(element.url || '', element.text || element.url || '')
      ?? document.createTextNode(element.text || element.url || ''), element.style);
    case 'user': return userMention(element.user_id);
    case 'channel': return channelMention(element.channel_id);
    case 'usergroup': return mentionChip('usergroup', `@${element.usergroup_id}`);
    case 'broadcast': return broadcastMention(element.range || 'here');
    case 'emoji': return emojiNode(element.name || '', element.unicode);
    case 'date': return document.createTextNode(element.fallback || formatTimestamp(element.timestamp));
    case 'color': return colorSwatch(element.value);
    default: return h('span', { class: 'bk-unsupported', text: `[unsupported rich text: ${element.type}]` });
  }
}

function colorSwatch(value) {
  const safe = /^#[0-9a-f]{3,8}$/i.test(value) ? value : 'transparent';
  return h('span', { class: 'rt-color' }, h('span', { class: 'rt-swatch', style: `background: ${safe}` }), value);
}

function styled(node, style = {}) {
  let result = node;
  if (style.code) result = h('code', { class: 'md-code' }, result);
  if (style.bold) result = h('strong', {}, result);
  if (style.italic) result = h('em', {}, result);
  if (style.strike) result = h('s', {}, result);
  if (style.underline) result = h('u', {}, result);
  return result;
}

function formatTimestamp(seconds) {
  return seconds ? new Date(Number(seconds) * 1000).toLocaleString('en-GB', { timeZone: 'Europe/London' }) : '';
}

/** The text of a rich_text object, as someone reading it would type it (for rich_text_input). */
export function richTextToPlain(richText) {
  if (!richText) return '';
  if (typeof richText === 'string') return richText;
  const inline = (element) => {
    switch (element.type) {
      case 'text': return element.text ?? '';
      case 'link': return element.text || element.url || '';
      case 'user': return `@${userName(element.user_id)}`;
      case 'channel': return `#${directory.channelNames[element.channel_id] || element.channel_id}`;
      case 'broadcast': return `@${element.range}`;
      case 'emoji': return `:${element.name}:`;
      default: return element.text ?? '';
    }
  };
  const part = (p) => {
    if (p.type === 'rich_text_list') {
      return (p.elements || []).map((item, i) => `${p.style === 'ordered' ? `${i + 1}.` : '•'} ${part(item)}`).join('\n');
    }
    return (p.elements || []).map((e) => (e.type?.startsWith('rich_text_') ? part(e) : inline(e))).join('');
  };
  return (richText.elements || []).map(part).join('\n');
}

// --- Confirm dialog ------------------------------------------------------------------------------------------

/** Ask as Slack does for elements with a `confirm` object; resolves true when confirmed. */
export function askToConfirm(confirm) {
  return new Promise((resolve) => {
    const previousFocus = document.activeElement;
    const titleId = uniqueId('confirm-title');
    const finish = (answer) => {
      overlay.remove();
      document.removeEventListener('keydown', onKey, true);
      previousFocus?.focus?.();
      resolve(answer);
    };
    const onKey = (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        finish(false);
      }
    };
    const confirmButton = h('button', {
      type: 'button', class: `btn ${confirm.style === 'danger' ? 'btn-danger' : 'btn-primary'}`,
      'data-testid': 'confirm-yes', onclick: () => finish(true),
    }, renderPlainText(confirm.confirm || 'Yes'));
    const overlay = h('div', { class: 'overlay overlay-confirm' },
      h('div', {
        class: 'confirm-dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': titleId,
        'data-testid': 'confirm',
      },
        h('h2', { id: titleId, class: 'confirm-title' }, renderPlainText(confirm.title || 'Are you sure?')),
        h('div', { class: 'confirm-text' }, renderText(confirm.text)),
        h('div', { class: 'confirm-buttons' },
          h('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-no', onclick: () => finish(false) },
            renderPlainText(confirm.deny || 'Cancel')),
          confirmButton)));
    document.addEventListener('keydown', onKey, true);
    document.body.append(overlay);
    confirmButton.focus();
  });
}
