// Small shared pieces: a labelled field with its problems (GOV.UK's error message pattern), the
// problem summary, error boxes and a confirmation dialog.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { getLang, hasText, pick, t, tCode } from './i18n.js';

/**
 * A problem's field key: core names a field as the caller wrote it, or by its wire name
 * (`articles[0].thumbMediaId`, `articles[0].thumb_media_id`, `touser`); both come to one key.
 */
export const fieldKey = (path) => path.replace(/_/g, '').toLowerCase();

/** The id of the element that shows a problem path (`articles[0].title` → `f-articles-0-title`). */
export const fieldId = (path) => `f-${fieldKey(path).replace(/[^a-z0-9]+/g, '-').replace(/-$/, '')}`;

/** Problems whose path is `path` (compared as field keys). */
export const problemsAt = (problems, path) => problems.filter((p) => fieldKey(p.path) === fieldKey(path));

// The label of each field on the page by field key, so a problem (in the summary too) leads with
// the words a person sees next to the input, not core's path.
const labels = new Map();
const labelOf = (path) => labels.get(fieldKey(path)) ?? labels.get(fieldKey(path.replace(/\.[^.[]+$|\[\d+\]$/, '')));

/** Core's text without the path it starts with (`text.content 为必填项…` → `为必填项…`). */
function withoutPath(text, path) {
  const lead = text.indexOf(' ');
  const head = lead > 0 ? text.slice(0, lead) : '';
  return head && fieldKey(head) === fieldKey(path) ? text.slice(lead + 1) : text;
}

/**
 * A problem in words, label first: the field's label and what to do ("请填写文本内容。"), or the
 * label and core's text (its zh on the Chinese page) for the other rules; the path and rule code
 * come after, small.
 */
export function ProblemText({ p }) {
  const label = labelOf(p.path);
  const core = withoutPath(pick(p.message, p.zh), p.path);
  const lead = p.rule === 'required' && label ? t('do_required', { label }) : label ? `${label}${getLang() === 'zh' ? '：' : ': '}${core}` : core;
  return html`${lead} <span class="rule">${p.path ? html`<code>${p.path}</code> · ` : ''}<code>${p.rule}</code></span>`;
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
  // The worker's refusals (`shown`) are at their field at once: the operator just pressed Send.
  const mine = problemsAt(problems, path).filter((p) => touched || p.shown);
  const described = [hint ? `${id}-hint` : null, mine.length ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  const Tag = as;
  labels.set(fieldKey(path), label);
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
  labels.set(fieldKey(path), label);
  const mine = problemsAt(problems, path);
  return html`<div class=${`check${mine.length ? ' field-error' : ''}`}>
    ${mine.length > 0 && html`<p class="error-message" id=${`${id}-error`}>${mine.map((p) => html`<span><${ProblemText} p=${p} /></span>`)}</p>`}
    <input type="checkbox" id=${id} checked=${checked} onChange=${(e) => onChange(e.currentTarget.checked)} aria-describedby=${mine.length ? `${id}-error` : undefined} />
    <label for=${id}>${label}</label>
  </div>`;
}

/** A path of the worker's answer as the form names it: `message.image.mediaId` → `image.mediaId`. */
const formPath = (path) => (path ?? '').replace(/^message\./, '').replace(/^audience\.tagId$/, 'filter.tagId');

/**
 * The problems of a worker's refusal of a send (422: a tag the account does not have, a media_id
 * that will have expired when the job starts, …), each at the field it names, with the worker's
 * Chinese twin (or the console's words for its rule) on the Chinese page.
 */
export function workerProblems(failure) {
  if (failure?.status !== 422 && failure?.status !== 400) return [];
  const e = failure.error ?? {};
  const list = e.problems?.length ? e.problems : e.path ? [e] : [];
  return list.map((p) => {
    const rule = p.rule ?? e.code;
    const ours = hasText(`refused_${rule}`) ? t(`refused_${rule}`) : hasText(`refused_${e.code}`) ? t(`refused_${e.code}`) : null;
    return { path: formPath(p.path), rule, value: p.value ?? null, message: p.message ?? e.message, zh: p.zh ?? p.messageZh ?? (getLang() === 'zh' ? ours : null), shown: true };
  });
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
      ${problems.map((p) => html`<li><a href=${`#${fieldId(p.path)}`} onClick=${(e) => go(e, p)}><${ProblemText} p=${p} /></a></li>`)}
    </ul>
  </div>`;
}

/**
 * An error from the worker or WeChat, in words: core's zh/en for WeChat's errcodes, the console's
 * words for the worker's codes; the worker's own (English) message and the code come after, small.
 */
export function ErrorBox({ error }) {
  if (!error) return null;
  const e = error.error ?? error;
  let body;
  if (e.code === 'wechat_rejected' || e.code === 'wechat_busy') {
    body = html`<p>${t('wechatSaid')} <strong>${e.errcode}</strong>${getLang() === 'zh' ? '：' : ': '}${pick(e.en, e.zh) ?? e.errmsg}</p>
      <p class="detail"><code>${e.errmsg}</code> (${e.class})</p>`;
  } else if (e.code === 'network') {
    body = html`<p>${t('networkError')}</p><p class="detail" lang="en">${e.message}</p>`;
  } else {
    body = html`<p>${tCode('err', e.code) === e.code ? t('err_default') : t(`err_${e.code}`)}</p>
      ${e.problems?.length > 0 && html`<ul>${e.problems.map((p) => html`<li><${ProblemText} p=${p} /></li>`)}</ul>`}
      <p class="detail"><code>${e.code}</code>${e.id ? html` · <code>${e.id}</code>` : ''} · <span lang="en">${e.message}</span></p>`;
  }
  return html`<div class="error-box" role="alert"><h3>${t('errorTitle')}</h3>${body}</div>`;
}

/** A modal confirmation (`<dialog>`): focus starts on the safe choice. */
export function Confirm({ title, children, yes, no, onYes, onNo, busy }) {
  const ref = useRef(null);
  // The control that opened the dialog gets the focus back when it closes (Escape included).
  // Taken at the first render, before the dialog is in the page: an effect runs after paint,
  // and on a busy machine the dialog's autofocus could have moved the focus into it by then.
  const [opener] = useState(() => document.activeElement);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      if (d?.open) d.close();
      if (opener && opener !== document.body && opener.isConnected) opener.focus();
    };
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

/**
 * Reads `read()` now and every `ms` until `done(answer)` says it will not change any more,
 * handing each answer to `onAnswer` and each failure to `onError` (it tries again after one);
 * stops when the component goes or `deps` change. Nothing runs while `enabled` is false.
 */
export function usePoll({ read, done, onAnswer, onError, enabled = true, ms = 2000 }, deps) {
  useEffect(() => {
    if (!enabled) return undefined;
    let stopped = false;
    let timer;
    const tick = async () => {
      try {
        const answer = await read();
        if (stopped) return;
        onAnswer(answer);
        if (done(answer)) return;
      } catch (e) {
        if (stopped) return;
        onError(e);
      }
      timer = setTimeout(tick, ms);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}

/** A state as a badge in words (`finished` → 已完成), its code as the class. */
export const Badge = ({ state }) => html`<span class=${`badge badge-${state}`} data-state=${state}>${tCode('state', state)}</span>`;
