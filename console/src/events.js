// The latest pushes the worker stored, newest first; unreadable, forward_failed and conflicting
// ones marked.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { chinaTime, getLang, num, pick, t, tCode } from './i18n.js';
import { api } from './api.js';
import { Badge, ErrorBox, Title } from './ui.js';

const STATES = ['applied', 'pending', 'ignored', 'conflicting', 'stored', 'forward_failed', 'unreadable'];
const MARKED = { unreadable: 'markUnreadable', forward_failed: 'markForwardFailed', conflicting: 'markConflicting' };

/** The job of a push applied to a batch: a batch's id is `<job id>-<index>`. */
const jobOf = (e) => (e.batchId && e.batchId.lastIndexOf('-') > 0 ? e.batchId.slice(0, e.batchId.lastIndexOf('-')) : null);

export function Events() {
  const [state, setState] = useState('');
  const [cursors, setCursors] = useState(['']);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const cursor = cursors[cursors.length - 1];
  const load = () => {
    const q = new URLSearchParams({ limit: '20' });
    if (state) q.set('state', state);
    if (cursor) q.set('cursor', cursor);
    setError(null);
    api('GET', `/api/events?${q}`).then(setPage, setError);
  };
  useEffect(load, [state, cursor]);
  return html`<section aria-labelledby="events-title">
    <${Title} id="events-title">${t('eventsTitle')}</${Title}>
    <div class="row">
      <div class="field">
        <label for="event-state">${t('eventFilter')}</label>
        <select id="event-state" value=${state} onChange=${(e) => { setState(e.currentTarget.value); setCursors(['']); }}>
          <option value="">${t('allStates')}</option>
          ${STATES.map((s) => html`<option value=${s}>${tCode('state', s)}</option>`)}
        </select>
      </div>
      <button type="button" onClick=${load}>${t('refresh')}</button>
    </div>
    <${ErrorBox} error=${error} />
    ${page && html`<p>${t('eventsTotal', { n: num(page.total) })}</p>`}
    ${page && (page.events.length === 0 ? html`<p>${t('noEvents')}</p>` : html`<div class="scroll" tabindex="0"><table id="events">
      <thead><tr><th scope="col">${t('receivedAt')}</th><th scope="col">${t('state')}</th><th scope="col">${t('kind')}</th><th scope="col">${t('event')}</th><th scope="col">${t('msgId')}</th><th scope="col">${t('eventJob')}</th><th scope="col">${t('reason')}</th></tr></thead>
      <tbody>${page.events.map((e) => html`<tr class=${MARKED[e.state] ? 'marked' : ''} data-state=${e.state}>
        <td>${chinaTime(e.receivedAt, { seconds: true })}</td>
        <td>${MARKED[e.state] && html`<strong class="mark">⚠ ${t(MARKED[e.state])}</strong> `}<${Badge} state=${e.state} /></td>
        <td>${tCode('kindEvent', e.kind)}</td><td>${e.event ?? '—'}</td><td><code>${e.msgId ?? '—'}</code></td>
        <td>${jobOf(e) ? html`<a href=${`#/jobs/${encodeURIComponent(jobOf(e))}`} class="event-job">${t('batchOfJob', { n: Number(e.batchId.slice(jobOf(e).length + 1)) + 1, id: jobOf(e) })}</a>` : '—'}</td>
        <td>${e.reason ? html`<span lang=${getLang() === 'zh' && e.reasonZh ? 'zh-CN' : 'en'}>${pick(e.reason, e.reasonZh)}</span>` : '—'}${e.xml && html`<details><summary>${t('rawXml')}</summary><pre>${e.xml}</pre></details>`}</td>
      </tr>`)}</tbody>
    </table></div>`)}
    <div class="row">
      ${cursors.length > 1 && html`<button type="button" onClick=${() => setCursors([''])}>${t('firstPage')}</button>`}
      ${page?.nextCursor && html`<button type="button" onClick=${() => setCursors([...cursors, page.nextCursor])}>${t('nextPage')}</button>`}
    </div>
  </section>`;
}
