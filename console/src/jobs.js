// Jobs: a paged list, and a job page that follows its progress (polling every 2 s while a batch
// is still to settle): batches, a chart of the MASSSENDJOBFINISH counts, each article's
// originality check and URL, cancel and delete (both confirmed).
import { useEffect, useState } from 'preact/hooks';
import { validateDelete } from 'wxmass';
import { html } from './html.js';
import { chinaTime, getLang, num, pick, t, tCode } from './i18n.js';
import { api } from './api.js';
import { Badge, Confirm, ErrorBox, Field, Title, usePoll } from './ui.js';
import { audienceText, MessageView, notesOf } from './message.js';
import { recall } from './local.js';

/**
 * A batch WeChat ended without delivering it in full is `finished` to the worker (nothing more
 * will happen to it), but a green 已完成 beside 未送达 reads as a success: it shows as 已结束.
 */
function batchStateShown(batch) {
  return batch.state === 'finished' && batch.outcome && batch.outcome.delivery !== 'delivered' ? 'ended' : batch.state;
}

const JOB_STATES = ['planned', 'sending', 'submitted', 'finished', 'partly_failed', 'failed', 'cancelled'];

/** A message in a few words for a list: its kind and the start of its text or title. */
function messageLine(message, media) {
  if (!message) return '—';
  const kind = message.msgType ?? message.msgtype;
  const text = kind === 'text' ? message.text?.content : kind === 'mpnews' ? (media?.articles?.[0] ?? recall('news', message.mpnews?.mediaId)?.[0])?.title : kind === 'mpvideo' ? message.mpvideo?.title : null;
  const short = text && text.length > 24 ? `${text.slice(0, 24)}…` : text;
  return short ? `${t(`kind_${kind}`)} · ${short}` : t(`kind_${kind}`);
}

/** Who created a job: the token's label and role in words; `null` for a job older than the record. */
export function createdByText(by) {
  if (!by) return t('notRecorded');
  const label = by.tokenId === null && by.label === 'ADMIN_TOKEN' ? t('deploymentSecret') : by.label;
  return `${label}${getLang() === 'zh' ? '（' : ' ('}${tCode('role', by.role)}${getLang() === 'zh' ? '）' : ')'}`;
}

/** A text of the worker's with its Chinese twin: the one of the page's language, marked with it. */
const Twin = ({ en, zh }) => {
  const text = pick(en, zh);
  return html`<span lang=${text === zh && zh ? 'zh-CN' : 'en'}>${text}</span>`;
};

const PAGE = 20;
const LIVE = new Set(['pending', 'sending', 'submitted']);

export function JobList() {
  const [cursors, setCursors] = useState(['']); // the cursor of each page seen, '' for the first
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [only, setOnly] = useState('');
  const cursor = cursors[cursors.length - 1];
  // The worker filters (GET /api/jobs?state=…), so every page holds only the state picked.
  const load = () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (only) q.set('state', only);
    if (cursor) q.set('cursor', cursor);
    setError(null);
    api('GET', `/api/jobs?${q}`).then(setPage, setError);
  };
  useEffect(load, [cursor, only]);
  return html`<section aria-labelledby="jobs-title">
    <${Title} id="jobs-title">${t('jobsTitle')}</${Title}>
    <div class="row">
      <div class="field">
        <label for="job-state">${t('jobFilter')}</label>
        <select id="job-state" value=${only} onChange=${(e) => { setOnly(e.currentTarget.value); setCursors(['']); }}>
          <option value="">${t('allStates')}</option>
          ${JOB_STATES.map((s) => html`<option value=${s}>${tCode('state', s)}</option>`)}
        </select>
      </div>
      <button type="button" onClick=${load}>${t('refresh')}</button>
    </div>
    <${ErrorBox} error=${error} />
    ${page && (page.jobs.length === 0 ? html`<p>${t('noJobs')}</p>` : html`<div class="scroll" tabindex="0"><table id="jobs">
      <thead><tr><th scope="col">${t('message')}</th><th scope="col">${t('audience')}</th><th scope="col">${t('state')}</th><th scope="col">${t('sendAtCol')}</th><th scope="col">${t('batchCounts')}</th><th scope="col">${t('jobId')}</th></tr></thead>
      <tbody>${page.jobs.map((j) => html`<tr data-state=${j.state}>
        <td><a href=${`#/jobs/${j.id}`}>${messageLine(j.message, j.media)}</a></td>
        <td>${j.audience ? audienceText(j.audience) : '—'}</td>
        <td><${Badge} state=${j.state} /></td>
        <td>${chinaTime(j.sendAt)}<br /><span class="hint">${t('createdAt')} ${chinaTime(j.createdAt)}${j.createdBy !== undefined && html` · ${createdByText(j.createdBy)}`}</span></td>
        <td class="counts-inline">${Object.entries(j.counts).filter(([, n]) => n > 0).map(([k, n]) => `${tCode('state', k)} ${num(n)}`).join(' · ')}</td>
        <td><a href=${`#/jobs/${j.id}`} class="job-id"><code>${j.id}</code></a></td>
      </tr>`)}</tbody>
    </table></div>`)}
    <div class="row">
      ${cursors.length > 1 && html`<button type="button" onClick=${() => setCursors([''])}>${t('firstPage')}</button>`}
      ${page?.nextCursor && html`<button type="button" onClick=${() => setCursors([...cursors, page.nextCursor])}>${t('nextPage')}</button>`}
    </div>
  </section>`;
}

/** Sent, filtered and error counts of each batch's result, as grouped bars (SVG). */
function ResultChart({ batches }) {
  const rows = batches.filter((b) => b.result && typeof b.result.sentCount === 'number');
  if (rows.length === 0) return html`<p class="hint">${t('chartEmpty')}</p>`;
  const series = [['filterCount', 'bar-filter'], ['sentCount', 'bar-sent'], ['errorCount', 'bar-error']];
  const max = Math.max(1, ...rows.flatMap((b) => series.map(([k]) => b.result[k])));
  const barW = 14;
  const groupW = barW * series.length + 18;
  const h = 160;
  const width = 40 + groupW * rows.length;
  return html`<figure class="chart">
    <svg id="result-chart" role="img" aria-labelledby="chart-title" viewBox=${`0 0 ${width} ${h + 40}`} width=${width} height=${h + 40}>
      <title id="chart-title">${t('chartTitle')}</title>
      <line x1="36" y1=${h} x2=${width} y2=${h} class="axis" />
      <text x="32" y="12" class="tick" text-anchor="end">${num(max)}</text>
      <text x="32" y=${h} class="tick" text-anchor="end">0</text>
      ${rows.map((b, i) => html`<g data-batch=${b.index}>
        ${series.map(([k, cls], j) => {
          const v = b.result[k];
          const bh = Math.round((v / max) * (h - 16));
          return html`<rect class=${cls} x=${40 + i * groupW + j * barW} y=${h - bh} width=${barW - 2} height=${bh} data-count=${v}><title>${`${t('batch')} ${b.index + 1} ${t(k)}: ${num(v)}`}</title></rect>`;
        })}
        <text x=${40 + i * groupW + (barW * series.length) / 2} y=${h + 16} class="tick" text-anchor="middle">${b.index + 1}</text>
      </g>`)}
    </svg>
    <figcaption>${t('chartTitle')}: ${series.map(([k, cls]) => html`<span class=${`key ${cls}`}>■</span> ${t(k)} `)}</figcaption>
  </figure>`;
}

function Articles({ job }) {
  const pushes = job.events.filter((e) => e.payload?.kind === 'mass_send_job_finish');
  const withArticles = pushes.filter((e) => e.payload.copyrightCheck || e.payload.articleUrls.length > 0);
  if (withArticles.length === 0) return html`<p class="hint">${t('noArticles')}</p>`;
  const batchOf = (msgId) => job.batches.find((b) => b.msgId === msgId);
  return html`${withArticles.map((e) => {
    const p = e.payload;
    const b = batchOf(p.msgId);
    const urls = new Map(p.articleUrls.map((u) => [u.idx, u.url]));
    const items = p.copyrightCheck?.items ?? [];
    const idxs = [...new Set([...items.map((x) => x.articleIdx), ...urls.keys()])].sort((a, z) => a - z);
    return html`<div class="articles-result" data-msg-id=${p.msgId}>
      <h3>${t('batch')} ${b ? b.index + 1 : '?'} · msg_id <code>${p.msgId}</code> · <${Badge} state=${p.status.wire} />
        ${p.status.kind === 'rejected' && html` <span>${(getLang() === 'zh' ? p.status.zh : p.status.en) ?? p.status.reason ?? ''}</span>`}</h3>
      ${p.copyrightCheck && html`<p>${t('checkState')}: <strong>${p.copyrightCheck.checkState ?? '—'}</strong></p>`}
      <div class="scroll" tabindex="0"><table class="articles-table">
        <thead><tr><th scope="col">${t('articleIdx')}</th><th scope="col">${t('userDeclareState')}</th><th scope="col">${t('auditState')}</th><th scope="col">${t('canReprint')}</th><th scope="col">${t('needReplaceContent')}</th><th scope="col">${t('needShowReprintSource')}</th><th scope="col">${t('originalUrl')}</th><th scope="col">${t('articleUrl')}</th></tr></thead>
        <tbody>${idxs.map((idx) => {
          const c = items.find((x) => x.articleIdx === idx);
          const v = (x) => (x === null || x === undefined ? '—' : x);
          return html`<tr>
            <td>${idx}</td><td>${v(c?.userDeclareState)}</td><td>${v(c?.auditState)}</td><td>${v(c?.canReprint)}</td><td>${v(c?.needReplaceContent)}</td><td>${v(c?.needShowReprintSource)}</td>
            <td>${c?.originalArticleUrl ? html`<a href=${c.originalArticleUrl} rel="noreferrer noopener" target="_blank">${c.originalArticleUrl}</a>` : '—'}</td>
            <td>${urls.has(idx) ? html`<a href=${urls.get(idx)} rel="noreferrer noopener" target="_blank" class="article-url">${urls.get(idx)}</a>` : '—'}</td>
          </tr>`;
        })}</tbody>
      </table></div>
    </div>`;
  })}`;
}

function DeleteArticle({ job }) {
  const sent = job.batches.filter((b) => b.msgId);
  // The batches get their msg_ids while the page is open: until one is picked, the first.
  const [picked, setMsgId] = useState('');
  const msgId = picked || (sent[0]?.msgId ?? '');
  const [idx, setIdx] = useState('0');
  const [confirming, setConfirming] = useState(false);
  const [state, setState] = useState({ busy: false, done: false, error: null });
  if (sent.length === 0) return null;
  const body = { msgId, articleIdx: idx === '' ? idx : Number.isInteger(Number(idx)) ? Number(idx) : idx };
  const problems = validateDelete(body).problems;
  const run = async () => {
    setState({ busy: true, done: false, error: null });
    try {
      await api('POST', '/api/messages/delete', body);
      setState({ busy: false, done: true, error: null });
    } catch (error) {
      setState({ busy: false, done: false, error });
    }
    setConfirming(false);
  };
  const what = Number(idx) === 0 ? t('deleteAll') : t('deleteOne', { n: idx });
  return html`<section class="group" aria-labelledby="delete-title">
    <h2 id="delete-title">${t('deleteTitle')}</h2>
    <div class="row">
      <${Field} path="msgId" as="select" label=${t('deleteBatch')} problems=${problems} value=${msgId} onChange=${(e) => setMsgId(e.currentTarget.value)}>
        ${sent.map((b) => html`<option value=${b.msgId}>${t('batch')} ${b.index + 1}: ${b.msgId}</option>`)}
      </${Field}>
      <${Field} path="articleIdx" label=${t('deleteIdx')} problems=${problems} value=${idx} inputmode="numeric" onInput=${(e) => setIdx(e.currentTarget.value)} />
    </div>
    <button type="button" id="delete-article" class="danger" disabled=${problems.length > 0 || state.busy} onClick=${() => setConfirming(true)}>${t('deleteButton')}</button>
    ${state.done && html`<p class="ok" role="status" id="delete-done">${t('deleted')}</p>`}
    <${ErrorBox} error=${state.error} />
    ${confirming && html`<${Confirm} title=${t('deleteTitle')} yes=${t('deleteYes')} no=${t('deleteNo')} busy=${state.busy} onYes=${run} onNo=${() => setConfirming(false)}>
      <p id="confirm-text">${t('deleteConfirm', { msgId, what })}</p>
    </${Confirm}>`}
  </section>`;
}

export function JobPage({ id }) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [cancel, setCancel] = useState({ busy: false, answer: null, error: null });
  const live = job ? job.batches.some((b) => LIVE.has(b.state)) : true;

  usePoll({
    read: () => api('GET', `/api/jobs/${encodeURIComponent(id)}`),
    done: (j) => !j.batches.some((b) => LIVE.has(b.state)),
    onAnswer: (j) => {
      setJob(j);
      setError(null);
    },
    onError: setError,
  }, [id, cancel.answer]);

  const doCancel = async () => {
    setCancel({ busy: true, answer: null, error: null });
    try {
      const answer = await api('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`);
      setJob(answer.job);
      setCancel({ busy: false, answer, error: null });
    } catch (error) {
      setCancel({ busy: false, answer: null, error });
    }
    setConfirming(false);
  };

  if (!job) return html`<section><p><a href="#/jobs">${t('backToJobs')}</a></p><${ErrorBox} error=${error} />${!error && html`<p>${t('loading')}</p>`}</section>`;
  const r = job.results;
  const pending = job.counts.pending;
  const kind = job.message.msgType ?? job.message.msgtype;
  const accepted = job.batches.map((b) => b.submittedAt).filter((x) => typeof x === 'number');
  const started = accepted.length ? Math.min(...accepted) : null;
  return html`<section aria-labelledby="job-title">
    <p><a href="#/jobs">${t('backToJobs')}</a></p>
    <${Title} id="job-title">${t('jobTitle', { id: job.id })} <${Badge} state=${job.state} /></${Title}>
    ${live && html`<p class="hint" role="status">${t('liveNote')}</p>`}
    <${ErrorBox} error=${error} />
    ${job.reason && html`<div class=${`job-reason job-reason-${job.state}`} id="job-reason" role="alert">
      <h2>${t('jobReason')}</h2>
      <p>${pick(job.reason.en, job.reason.zh)}</p>
    </div>`}
    <${MessageView} message=${job.message} media=${job.media} id="job-message" />
    ${recall('checks', job.id) && html`<p class="hint" id="job-checks">${pick(recall('checks', job.id).reason, recall('checks', job.id).reasonZh)}</p>`}
    <dl class="counts">
      <div><dt>${t('audience')}</dt><dd id="job-audience">${audienceText(job.audience, job.summary.recipients)}</dd></div>
      <div><dt>${t('createdAt')}</dt><dd>${chinaTime(job.createdAt)}</dd></div>
      <div><dt>${t('createdBy')}</dt><dd id="job-created-by">${createdByText(job.createdBy)}${job.createdBy?.tokenId && html` <code class="hint">${job.createdBy.tokenId}</code>`}</dd></div>
      <div><dt>${t('sendAtCol')}</dt><dd id="job-send-at">${chinaTime(job.sendAt)}</dd></div>
      <div><dt>${t('startedAt')}</dt><dd id="job-started">${started === null ? t('notStarted') : chinaTime(started)}</dd></div>
      <div><dt>${t('batches')}</dt><dd>${num(job.batches.length)}</dd></div>
    </dl>

    ${pending > 0 && html`<div class="row"><button type="button" id="cancel-job" class="danger" disabled=${cancel.busy} onClick=${() => setConfirming(true)}>${t('cancelJob')}</button></div>`}
    ${cancel.answer && html`<div role="status" id="cancel-done"><p class="ok">${t('cancelled', { n: cancel.answer.cancelledBatches })}</p>
      ${cancel.answer.notCancelled?.length > 0 && html`<ul class="notes" id="cancel-kept">${cancel.answer.notCancelled.map((k) => html`<li>${t('batchKept', { n: k.index + 1 })}<${Twin} en=${k.why} zh=${k.whyZh} /></li>`)}</ul>`}</div>`}
    <${ErrorBox} error=${cancel.error} />
    ${confirming && html`<${Confirm} title=${t('cancelJob')} yes=${t('cancelYes')} no=${t('cancelNo')} busy=${cancel.busy} onYes=${doCancel} onNo=${() => setConfirming(false)}>
      <p id="confirm-text">${t('cancelConfirm', { id: job.id, n: pending })}</p>
    </${Confirm}>`}

    <h2>${t('results')}</h2>
    <dl class="counts" id="job-results">
      <div><dt>${t('eventsCount')}</dt><dd id="result-events">${num(r.events)}</dd></div>
      <div><dt>${t('totalCount')}</dt><dd id="result-total">${num(r.totalCount)}</dd></div>
      <div><dt>${t('filterCount')}</dt><dd id="result-filter">${num(r.filterCount)}</dd></div>
      <div><dt>${t('sentCount')}</dt><dd id="result-sent">${num(r.sentCount)}</dd></div>
      <div><dt>${t('errorCount')}</dt><dd id="result-error">${num(r.errorCount)}</dd></div>
    </dl>
    <${ResultChart} batches=${job.batches} />

    <h2>${t('batchesTitle')}</h2>
    <div class="scroll" tabindex="0"><table id="batches">
      <thead><tr><th scope="col">${t('batch')}</th><th scope="col">${t('state')}</th><th scope="col">${t('outcome')}</th><th scope="col">${t('recipients')}</th><th scope="col">${t('result')}</th><th scope="col">${t('attempts')}</th><th scope="col">${t('msgId')}</th><th scope="col">${t('clientMsgId')}</th><th scope="col">${t('lastOutcome')}</th></tr></thead>
      <tbody>${job.batches.map((b) => html`<tr data-batch=${b.index}>
        <td>${b.index + 1}</td><td><${Badge} state=${batchStateShown(b)} /></td>
        <td class="outcome">${b.outcome ? html`<span class=${`badge badge-${b.outcome.delivery}`}>${t(b.outcome.delivery)}</span> <span class="outcome-why">${pick(b.outcome.en, b.outcome.zh)}</span>` : '—'}</td>
        <td>${b.recipients === null ? '—' : num(b.recipients)}</td>
        <td>${b.result ? (typeof b.result.sentCount === 'number' ? html`<${Badge} state=${b.result.status} /> ${t('sentCount')} ${num(b.result.sentCount)} / ${t('filterCount')} ${num(b.result.filterCount)} / ${t('errorCount')} ${num(b.result.errorCount)}` : html`<code>${b.result.status}</code> (${b.result.source})${b.result.note && html` <${Twin} en=${b.result.note} zh=${b.result.noteZh} />`}`) : '—'}</td>
        <td>${b.attempts}</td>
        <td><code>${b.msgId ?? '—'}</code></td><td><code>${b.clientMsgId}</code></td>
        <td class="last-outcome">${b.lastOutcome || b.failReason ? html`${b.lastOutcome && html`<${Twin} en=${b.lastOutcome} zh=${b.lastOutcomeZh} />`}${b.failReason && html`${b.lastOutcome && html`<br />`}<${Twin} en=${b.failReason} zh=${b.failReasonZh} />`}` : '—'}</td>
      </tr>`)}</tbody>
    </table></div>

    <h2>${t('articlesTitle')}</h2>
    <${Articles} job=${job} />

    ${(kind === 'mpnews' || kind === 'mpvideo') && html`<${DeleteArticle} job=${job} />`}

    <h2>${t('notes')}</h2>
    <ul class="notes" id="job-notes">${notesOf(job.summary).map(([n, lang]) => html`<li lang=${lang}>${n}</li>`)}</ul>
  </section>`;
}
