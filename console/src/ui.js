// Small shared pieces: a labelled field with its problems (GOV.UK's error message pattern), the
// problem summary, error boxes and a confirmation dialog.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { getLang, t } from './i18n.js';

/**
 * A problem's field key: core names a field as the caller wrote it, or by its wire name
 * (`articles[0].thumbMediaId`, `articles[0].thumb_media_id`, `touser`); both come to one key.
 */
export const fieldKey = (path) => path.replace(/_/g, '').toLowerCase();

/** The id of the element that shows a problem path (`articles[0].title` → `f-articles-0-title`). */
export const fieldId = (path) => `f-${fieldKey(path).replace(/[^a-z0-9]+/g, '-').replace(/-$/, '')}`;

/** Problems whose path is `path` (compared as field keys). */
export const problemsAt = (problems, path) => problems.filter((p) => fieldKey(p.path) === fieldKey(path));

/** Core's text of a problem in the current language (`zh` when core gives one) and its rule. */
export function ProblemText({ p }) {
  const text = getLang() === 'zh' && p.zh ? p.zh : p.message;
  return html`${text} <span class="rule">[${t('rule')}: <code>${p.rule}</code>]</span>`;
}

// Fields the problem summary sent the focus to: they show their problems from then on.
const revealed = new Set();

/**
 * Whether a field shows its problems: once it was changed or left (a pristine form is not a page
 * of errors), or reached from the problem summary. The summary lists every problem at all times.
 */
function useTouched(path, input) {
  const [touched, setTouched] = useState(false);
  const touch = () => setTouched(true);
  const chain = (name) => (e) => {
    touch();
    input[name]?.(e);
  };
  const handlers = { onInput: chain('onInput'), onChange: chain('onChange'), onBlur: chain('onBlur') };
  handlers.onFocus = (e) => {
    if (revealed.delete(fieldKey(path))) touch();
    input.onFocus?.(e);
  };
  return [touched, handlers];
}

/**
 * A labelled input. `path` is the problem path it answers for: its id comes from it, so the
 * problem summary links to it. `as`: input (default), textarea or select.
 */
export function Field({ path, label, hint, problems = [], as = 'input', children, ...input }) {
  const id = fieldId(path);
  const [touched, handlers] = useTouched(path, input);
  const mine = touched ? problemsAt(problems, path) : [];
  const described = [hint ? `${id}-hint` : null, mine.length ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  const Tag = as;
  return html`<div class=${`field${mine.length ? ' field-error' : ''}`}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${mine.length > 0 && html`<p class="error-message" id=${`${id}-error`}>${mine.map((p) => html`<span><${ProblemText} p=${p} /></span>`)}</p>`}
    <${Tag} id=${id} name=${path} aria-invalid=${mine.length ? 'true' : undefined} aria-describedby=${described} ...${input} ...${handlers}>${children}</${Tag}>
  </div>`;
}

/** A checkbox with its label after it. */
export function Check({ path, label, checked, onChange, problems = [] }) {
  const id = fieldId(path);
  const mine = problemsAt(problems, path);
  return html`<div class=${`check${mine.length ? ' field-error' : ''}`}>
    ${mine.length > 0 && html`<p class="error-message" id=${`${id}-error`}>${mine.map((p) => html`<span><${ProblemText} p=${p} /></span>`)}</p>`}
    <input type="checkbox" id=${id} checked=${checked} onChange=${(e) => onChange(e.currentTarget.checked)} aria-describedby=${mine.length ? `${id}-error` : undefined} />
    <label for=${id}>${label}</label>
  </div>`;
}

/** Every problem left, each a link to its field (GOV.UK's error summary). */
export function ProblemSummary({ problems, id = 'problem-summary' }) {
  if (problems.length === 0) return html`<p class="ok" id=${id} role="status">${t('problemsNone')}</p>`;
  const go = (e, p) => {
    e.preventDefault();
    const el = document.getElementById(fieldId(p.path)) ?? document.getElementById(fieldId(p.path.replace(/\.[^.[]+$|\[\d+\]$/, '')));
    revealed.add(fieldKey(p.path));
    el?.focus();
    el?.scrollIntoView({ block: 'center' });
  };
  return html`<div class="problem-summary" id=${id} role="region" aria-labelledby=${`${id}-title`}>
    <h3 id=${`${id}-title`}>${t('problemsTitle', { n: problems.length })}</h3>
    <ul>
      ${problems.map((p) => html`<li><a href=${`#${fieldId(p.path)}`} onClick=${(e) => go(e, p)}><code>${p.path || '—'}</code>: <${ProblemText} p=${p} /></a></li>`)}
    </ul>
  </div>`;
}

/** An error from the worker or WeChat, in words: core's zh/en for WeChat's errcodes. */
export function ErrorBox({ error }) {
  if (!error) return null;
  const e = error.error ?? error;
  let body;
  if (e.code === 'wechat_rejected' || e.code === 'wechat_busy') {
    const text = getLang() === 'zh' ? e.zh ?? e.en : e.en ?? e.zh;
    body = html`<p>${t('wechatSaid')} <strong>${e.errcode}</strong>: ${text ?? e.errmsg}</p>
      <p class="detail"><code>${e.errmsg}</code> (${e.class})</p>`;
  } else if (e.code === 'network') {
    body = html`<p>${t('networkError')}${e.message}</p>`;
  } else {
    body = html`<p><code>${e.code}</code>: ${e.message}</p>
      ${e.problems?.length > 0 && html`<ul>${e.problems.map((p) => html`<li><code>${p.path}</code>: <${ProblemText} p=${p} /></li>`)}</ul>`}`;
  }
  return html`<div class="error-box" role="alert"><h3>${t('errorTitle')}</h3>${body}</div>`;
}

/** A modal confirmation (`<dialog>`): focus starts on the safe choice. */
export function Confirm({ title, children, yes, no, onYes, onNo, busy }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.open && d.close();
  }, []);
  return html`<dialog ref=${ref} class="confirm" aria-labelledby="confirm-title" onCancel=${(e) => { e.preventDefault(); onNo(); }}>
    <h2 id="confirm-title">${title}</h2>
    ${children}
    <div class="actions">
      <button type="button" class="primary" onClick=${onYes} disabled=${busy}>${yes}</button>
      <button type="button" autofocus onClick=${onNo} disabled=${busy}>${no}</button>
    </div>
  </dialog>`;
}

/**
 * A screen's heading, focused when the screen appears (after signing in, on every route), so a
 * keyboard or screen-reader user starts at the top of what changed; Tab goes on into the screen.
 */
export function Title({ id, children }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<h1 id=${id} tabindex="-1" ref=${ref}>${children}</h1>`;
}

/** A state as a badge (`finished`, `unreadable`, …). */
export const Badge = ({ state }) => html`<span class=${`badge badge-${state}`}>${state}</span>`;
