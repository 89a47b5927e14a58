// The modal of the sandbox page: shows state.modal, keeps what the person typed when the view is re-rendered
// (views.update, push and pop), checks required fields as Slack's client does, submits, closes, shows errors.

import { h, uniqueId, replaceChildren } from './dom.js';
import { renderBlocks, inputKey } from './blockkit.js';
import { renderPlainText } from './mrkdwn.js';

const REQUIRED_MESSAGE = 'Please complete this required field.';

export class ModalView {
  /**
   * host: where the overlay goes; appRoot: made inert while the modal is open;
   * onAction(element, block, value), onSubmit(values) -> {errors}, onClose(): talk to the server.
   */
  constructor({ host, appRoot, onAction, onSubmit, onClose }) {
    Object.assign(this, { host, appRoot, onAction, onSubmit, onClose });
    this.modal = null;
    this.signature = null;
    this.stateErrorsJson = '{}';
    this.inputs = new Map();
    this.typedByView = new Map(); // view id -> Map(block key -> {type, value}): kept across push and pop
    this.overlay = null;
    this.onDocumentKeydown = (event) => this.onKeydown(event);
  }

  /** Show `modal` (from /api/state), or remove the modal when it is null. */
  update(modal) {
    if (!modal) {
      this.remove();
      this.typedByView.clear();
      return;
    }
    const signature = modalSignature(modal);
    if (signature === this.signature) {
      this.applyStateErrors(modal.errors);
      return;
    }
    this.saveTypedValues();
    this.render(modal);
  }

  /** Forget everything (another person chose to use the page). */
  reset() {
    this.remove();
    this.typedByView.clear();
  }

  remove() {
    if (this.overlay) this.overlay.remove();
    document.removeEventListener('keydown', this.onDocumentKeydown);
    Object.assign(this, { overlay: null, modal: null, signature: null, inputs: new Map(), stateErrorsJson: '{}' });
    this.appRoot.inert = false;
  }

  isOpen() {
    return Boolean(this.overlay);
  }

  saveTypedValues() {
    if (!this.modal) return;
    const typed = new Map();
    for (const [key, entry] of this.inputs) {
      if (entry.dirty) typed.set(key, { type: entry.element.type, value: entry.control.get() });
    }
    this.typedByView.set(this.modal.id, typed);
  }

  render(modal) {
    const sameView = this.modal && this.modal.id === modal.id;
    const previous = {
      scrollTop: this.body?.scrollTop ?? 0, focus: this.focusedPlace(), hadModal: Boolean(this.modal),
    };
    this.remove();
    this.modal = modal;
    this.signature = modalSignature(modal);
    this.inputs = new Map();
    this.overlay = this.buildOverlay(modal);
    this.host.append(this.overlay);
    this.appRoot.inert = true;
    document.addEventListener('keydown', this.onDocumentKeydown);
    this.restoreTypedValues(this.typedByView.get(modal.id));
    this.stateErrorsJson = JSON.stringify(modal.errors || {});
    this.showErrors(modal.errors || {});
    if (sameView) this.body.scrollTop = previous.scrollTop;
    this.placeFocus(sameView ? previous.focus : null, previous.hadModal && sameView);
  }

  buildOverlay(modal) {
    const titleId = uniqueId('modal-title');
    const stacked = (modal.depth || 1) > 1;
    const closeButton = h('button', {
      type: 'button', class: stacked ? 'modal-back' : 'modal-x', 'data-testid': 'modal-close',
      'aria-label': stacked ? 'Back' : 'Close', title: stacked ? 'Back' : 'Close', onclick: () => this.close(),
    }, stacked ? '‹ Back' : '×');
    this.generalErrors = h('div', { class: 'modal-general-errors' });
    this.body = h('div', { class: 'modal-body' }, this.generalErrors,
      renderBlocks(modal.blocks, { surface: 'modal', onAction: this.onAction, inputs: this.inputs }));
    this.submitButton = modal.submit
      ? h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'modal-submit' },
        renderPlainText(modal.submit))
      : null;
    const form = h('form', { class: 'modal-form', novalidate: true, onsubmit: (event) => {
      event.preventDefault();
      if (this.submitButton) this.submit();
    } },
    h('header', { class: 'modal-header' },
      stacked && closeButton,
      h('h2', { id: titleId, class: 'modal-title', 'data-testid': 'modal-title' }, renderPlainText(modal.title || 'Beacon')),
      !stacked && closeButton),
    this.body,
    h('footer', { class: 'modal-footer' },
      modal.close && h('button', {
        type: 'button', class: 'btn', 'data-testid': 'modal-cancel', onclick: () => this.close(),
      }, renderPlainText(modal.close)),
      this.submitButton));
    this.dialog = h('div', {
      class: 'modal', role: 'dialog', tabindex: '-1', 'aria-modal': 'true', 'aria-labelledby': titleId,
      'data-testid': 'modal',
      dataset: { viewId: modal.id ?? '', depth: String(modal.depth || 1) },
    }, form);
    return h('div', { class: 'overlay overlay-modal' }, this.dialog);
  }

  restoreTypedValues(typed) {
    if (!typed) return;
    for (const [key, entry] of this.inputs) {
      const saved = typed.get(key);
      if (saved && saved.type === entry.element.type) {
        entry.control.set(saved.value);
        entry.dirty = true;
      }
    }
  }

  /** Where focus is in the modal: the input block's key, or the action_id of a button or other element. */
  focusedPlace() {
    const active = document.activeElement;
    if (!this.overlay || !this.dialog.contains(active)) return null;
    for (const [key, entry] of this.inputs) if (entry.wrapper.contains(active)) return { inputKey: key };
    const actionId = active.closest('[data-action-id]')?.dataset.actionId;
    return actionId ? { actionId } : null;
  }

  /** After a re-render, focus goes back where it was; on a new view, to the first control. */
  placeFocus(place, keepQuiet) {
    const entry = place?.inputKey !== undefined ? this.inputs.get(place.inputKey) : null;
    const action = place?.actionId !== undefined
      ? [...this.body.querySelectorAll('[data-action-id]')].find((el) => el.dataset.actionId === place.actionId)
      : null;
    const target = (entry && focusableIn(entry.wrapper)) || action
      || this.dialog.querySelector('[data-focus-on-load="true"]')
      || (keepQuiet ? null : focusableIn(this.body));
    (target || this.dialog).focus({ preventScroll: Boolean(entry || action) });
  }

  onKeydown(event) {
    if (document.querySelector('.overlay-confirm')) return; // the confirm dialog answers its own keys
    if (event.key === 'Escape') {
      event.preventDefault();
      this.close();
    } else if (event.key === 'Tab') {
      keepTabInside(this.dialog, event);
    }
  }

  /** Every input block's current value, keyed by block_id, in the shapes of the spec's table. */
  collectValues() {
    const values = {};
    for (const [key, entry] of this.inputs) {
      if (!entry.control.unsupported) values[key] = entry.control.get();
    }
    return values;
  }

  /** What Slack's own client refuses before sending: empty required fields, too short or too long text. */
  validate(values) {
    const errors = {};
    for (const [key, entry] of this.inputs) {
      const value = values[key];
      const { min_length: min, max_length: max } = entry.element;
      if (isEmpty(value)) {
        if (!entry.block.optional && !entry.control.unsupported) errors[key] = REQUIRED_MESSAGE;
      } else if (typeof value === 'string' && min && value.length < min) {
        errors[key] = `Please enter at least ${min} characters (you have ${value.length}).`;
      } else if (typeof value === 'string' && max && value.length > max) {
        errors[key] = `Please keep this to ${max} characters (you have ${value.length}).`;
      }
    }
    return errors;
  }

  async submit() {
    if (this.submitting) return;
    const values = this.collectValues();
    const problems = this.validate(values);
    if (Object.keys(problems).length) {
      this.showErrors(problems);
      this.focusFirstError();
      return;
    }
    const button = this.submitButton;
    this.submitting = true;
    button.disabled = true;
    try {
      const result = await this.onSubmit(values);
      if (this.submitButton !== button) return; // the modal changed meanwhile
      const errors = result?.errors || {};
      this.showErrors(errors);
      if (Object.keys(errors).length) this.focusFirstError();
    } finally {
      this.submitting = false;
      button.disabled = false;
    }
  }

  async close() {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.onClose();
    } finally {
      this.closing = false;
    }
  }

  /** Errors the server keeps on the modal: shown when they change, so errors from a submit stay put. */
  applyStateErrors(errors) {
    const json = JSON.stringify(errors || {});
    if (json === this.stateErrorsJson) return;
    this.stateErrorsJson = json;
    this.showErrors(errors || {});
  }

  /** Show `errors` ({block_id: sentence}) under their blocks; errors for other blocks go at the top. */
  showErrors(errors) {
    const unplaced = { ...errors };
    for (const [key, entry] of this.inputs) {
      const message = errors[key];
      delete unplaced[key];
      markInvalid(entry, message);
    }
    replaceChildren(this.generalErrors, Object.values(unplaced).map((message) => (
      h('p', { class: 'field-error', 'data-testid': 'field-error', role: 'alert', text: message }))));
  }

  focusFirstError() {
    const first = [...this.inputs.values()].find((entry) => entry.errorSlot.childElementCount);
    if (first) focusableIn(first.wrapper)?.focus();
  }
}

function markInvalid(entry, message) {
  const target = focusableIn(entry.wrapper) || entry.control.node;
  const errorId = entry.errorId || (entry.errorId = uniqueId('error'));
  const describedBy = (target.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== errorId);
  if (message) {
    replaceChildren(entry.errorSlot,
      h('p', { id: errorId, class: 'field-error', 'data-testid': 'field-error', text: message }));
    target.setAttribute('aria-invalid', 'true');
    describedBy.unshift(errorId);
    entry.wrapper.classList.add('has-error');
  } else {
    replaceChildren(entry.errorSlot);
    target.removeAttribute('aria-invalid');
    entry.wrapper.classList.remove('has-error');
  }
  if (describedBy.length) target.setAttribute('aria-describedby', describedBy.join(' '));
  else target.removeAttribute('aria-describedby');
}

/** What decides whether the modal on screen must be rebuilt: its id, title, buttons and blocks. */
function modalSignature(modal) {
  return JSON.stringify([modal.id, modal.depth, modal.title, modal.submit, modal.close, modal.blocks]);
}

function isEmpty(value) {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

const FOCUSABLE = ['input', 'select', 'textarea', 'button'].map((tag) => `${tag}:not([disabled])`)
  .concat('a[href]', '[tabindex="0"]').join(', ');

/** The first control to focus in `container`; for radio buttons, the chosen one of that group. */
function focusableIn(container) {
  const first = container.querySelector(FOCUSABLE);
  if (first && first.type === 'radio') {
    return first.closest('[role="radiogroup"]')?.querySelector('input:checked') || first;
  }
  return first;
}

function keepTabInside(container, event) {
  const items = [...container.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}
