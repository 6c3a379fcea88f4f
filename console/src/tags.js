// The audience from the account itself: a tag picked by name with its follower count
// (GET /api/tags), and an OpenID list the worker collects from a tag's followers or from every
// follower (POST /api/audiences with a source; the cron pages through WeChat and seals it), whose
// progress is shown until it is sealed.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { chinaTime, num, pick, t } from './i18n.js';
import { api } from './api.js';
import { ErrorBox, Field, fieldId, problemsAt, ProblemText, usePoll } from './ui.js';

/**
 * The tag: a list of the account's tags by name and count; a typed tag id when the list could not
 * be read (`error`: why), or while it loads.
 */
export function TagField({ path, tags, error, value, problems, onPick }) {
  if (tags) {
    return html`<${Field} path=${path} as="select" label=${t('tagPick')} problems=${problems} value=${value} onChange=${(e) => onPick(e.currentTarget.value)}>
      <option value="">${t('tagChoose')}</option>
      ${tags.map((tag) => html`<option value=${String(tag.id)}>${t('tagOption', { name: tag.name, id: tag.id, n: num(tag.count) })}</option>`)}
    </${Field}>`;
  }
  return html`<${Field} path=${path} label=${t('tagId')} hint=${error ? t('tagsUnread') : undefined} problems=${problems} value=${value}
      onInput=${(e) => onPick(e.currentTarget.value)} inputmode="numeric" autocomplete="off" />
    ${error && html`<details class="detail"><summary>${t('errDetail')}</summary><${ErrorBox} error=${error} /></details>`}`;
}

/** Whether the draft's collected list is the one the audience choice asks for now. */
export function listFits(collected, mode, tagId) {
  if (!collected) return false;
  if (mode === 'allList') return collected.source === 'followers';
  return mode === 'tagList' && String(collected.source?.tagId) === String(tagId).trim();
}

/**
 * Collect the list (one press), then its progress until the worker seals it: OpenIDs collected of
 * the total WeChat gave, pages, state. `collected`: the draft's `{ id, name, source }` when it fits.
 */
export function ListAudience({ mode, tagId, tag, collected, list, problems, onCollected, onView }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  // Until sealed or failed, the worker's record is read again every 2 s (a reload resumes it).
  const id = collected?.id;
  const settled = Boolean(id) && list?.id === id && (list.state === 'sealed' || list.state === 'failed');
  usePoll({
    enabled: Boolean(id) && !settled,
    read: () => api('GET', `/api/audiences/${encodeURIComponent(id)}`),
    done: (view) => view.state === 'sealed' || view.state === 'failed',
    onAnswer: (view) => {
      onView(view);
      setError(null);
    },
    onError: setError,
  }, [id, settled]);

  const source = mode === 'allList' ? 'followers' : { tagId: Number(String(tagId).trim()) };
  const canStart = mode === 'allList' || (tag !== undefined && tagId !== '');
  const start = async () => {
    setBusy(true);
    setError(null);
    const name = mode === 'allList' ? t('listNameAll', { at: chinaTime(Date.now()) }) : t('listNameTag', { name: tag?.name ?? tagId, at: chinaTime(Date.now()) });
    try {
      const view = await api('POST', '/api/audiences', { name, source });
      onCollected({ id: view.id, name, source }, view);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const mine = problemsAt(problems, 'audience.list');
  const shown = list && list.id === id ? list : null;
  return html`<div class="list-audience" id="list-audience">
    <p class="hint" id="list-hint">${t(mode === 'allList' ? 'listHintAll' : 'listHintTag')}</p>
    ${!collected && html`<button type="button" id=${fieldId('audience.list')} onClick=${start} disabled=${busy || !canStart} aria-describedby="list-hint">
      ${busy ? t('listStarting') : t(mode === 'allList' ? 'listStartAll' : 'listStartTag')}</button>`}
    ${collected && html`<div class="upload">
      <p><strong id="list-name">${collected.name}</strong> <code class="hint">${collected.id}</code></p>
      <label for="list-progress">${t('listProgress')}</label>
      <progress id="list-progress" max=${shown?.total || 1} value=${shown?.state === 'sealed' ? shown.total || 1 : shown?.collected ?? 0}></progress>
      <p role="status" id="list-status" data-state=${shown?.state ?? ''}>${listStatus(shown)}</p>
      ${mine.length > 0 && shown?.state !== 'collecting' && shown && html`<p class="error-message" id=${fieldId('audience.list')}>${mine.map((p) => html`<span><${ProblemText} p=${p} /></span>`)}</p>`}
      ${shown?.state === 'collecting' && html`<p class="hint" id=${fieldId('audience.list')} tabindex="-1">${t('listCron')}</p>`}
      <button type="button" id="list-again" onClick=${() => onCollected(null, null)}>${t('listAgain')}</button>
    </div>`}
    <${ErrorBox} error=${error} />
  </div>`;
}

/** The list's state in words: collecting (how far), sealed (its counts), failed (why). */
function listStatus(v) {
  if (!v) return t('loading');
  if (v.state === 'sealed') return t('listSealed', { valid: num(v.valid), batches: num(v.batches), pages: num(v.pages) });
  if (v.state === 'failed') return `${t('listFailed')}${pick(v.failReason, v.failReasonZh) ?? ''}`;
  return t('listCollectingStatus', { collected: num(v.collected ?? 0), total: v.total === null || v.total === undefined ? t('totalUnknown') : num(v.total), pages: num(v.pages ?? 0) });
}
