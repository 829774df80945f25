// What the management pages share: a section card with a heading, a
// message line that announces what an action did (or why it failed), and a
// destructive button that asks once more in place (no dialog), so every
// step stays on the keyboard.
import { describeToken, getToken } from '../api.js';
import { h, clear, setText, emptyState } from '../util.js';

const BY_USERS = 'Organizations, members, projects and keys are managed by users: sign in with your own token.';

/**
 * A management page's frame: heading (its text replaceable: title),
 * eyebrow, the document's title. null, after saying why (byUsers), when
 * signed in with an API key.
 */
export function frame(outlet, heading, eyebrow, docTitle, byUsers = BY_USERS) {
  const title = h('span', { text: heading });
  const main = h('main', { class: 'page manage-page', id: 'main', tabindex: '-1' },
    h('div', { class: 'page-head' }, h('div', null,
      eyebrow ? h('p', { class: 'eyebrow', text: eyebrow }) : null,
      h('h1', { class: 'manage-title' }, title))));
  outlet.appendChild(main);
  document.title = `${docTitle} · Agora Cloud`;
  if (describeToken(getToken())?.kind === 'key') {
    main.appendChild(h('div', { class: 'card' }, emptyState('Signed in with an API key', byUsers)));
    return null;
  }
  return { main, title };
}

/** A card with a heading (h2, id for aria-labelledby) and a body. */
export function section(id, title, ...children) {
  return h('section', { class: 'card manage-section', 'aria-labelledby': id },
    h('h2', { class: 'section-title', id, text: title }), children);
}

/** A polite status line: ok(text) after an action, fail(err) when refused. */
export function statusLine() {
  const el = h('p', { class: 'manage-status', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    ok(text) { el.className = 'manage-status status-ok'; setText(el, text); },
    fail(err) {
      el.className = 'manage-status status-fail';
      setText(el, err && err.message ? err.message : String(err));
    },
    clear() { el.className = 'manage-status'; clear(el); },
  };
}

/**
 * A button that, pressed, turns into "Confirm" and "Cancel" in its place;
 * Confirm runs act() (a promise). label: the button's text; what: what
 * the buttons' names say it acts on (screen readers hear "Delete web").
 */
export function confirmButton(label, what, act) {
  const wrap = h('span', { class: 'confirm' });
  const first = h('button', { class: 'btn btn-danger', type: 'button', text: label, 'aria-label': `${label} ${what}` });
  const reset = () => { clear(wrap).appendChild(first); first.focus(); };
  first.addEventListener('click', () => {
    const yes = h('button', { class: 'btn btn-danger', type: 'button', text: `Confirm ${label.toLowerCase()}`,
      'aria-label': `Confirm: ${label.toLowerCase()} ${what}` });
    const no = h('button', { class: 'btn', type: 'button', text: 'Cancel', onClick: reset });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      try { await act(); } finally { if (wrap.isConnected) reset(); }
    });
    clear(wrap).append(yes, no);
    yes.focus();
  });
  wrap.appendChild(first);
  return wrap;
}

/** A labelled text input and a submit button as one small form. */
export function inlineForm(label, { value = '', placeholder = '', button, onSubmit, id }) {
  const input = h('input', { id, type: 'text', value, placeholder, required: true, autocomplete: 'off', maxlength: '200' });
  const submit = h('button', { class: 'btn', type: 'submit', text: button });
  const form = h('form', { class: 'inline-form', 'aria-label': label, onSubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try { await onSubmit(input.value.trim(), input); } finally { submit.disabled = false; }
  } }, h('label', { for: id, class: 'visually-hidden', text: label }), input, submit);
  return { form, input };
}
