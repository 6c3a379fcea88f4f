// Compose a mass send: the message (six kinds), the audience, when, the summary, a preview and
// a confirmed send. Every field is checked as it changes by the npm package (core in
// WebAssembly); a problem shows at its field with core's message and rule, and Send stays
// disabled until none is left.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { planSend, readSendAt, validatePreview, validateSendAll, validateUploadNews, validateUploadVideo, WxmassError } from 'wxmass';
import { html } from './html.js';
import { chinaTime, getLang, num, pick, t } from './i18n.js';
import { api, getAccount, getToken } from './api.js';
import { ArticlesEditor, articleBody, emptyArticle } from './articles.js';
import { dropDraft, loadDraft, remember, saveDraft } from './local.js';
import { forgetFile, keepFile, planFile, readFile, restoreFile, uploadFile } from './openid-file.js';
import { MessageView, notesOf } from './message.js';
import { MediaChooser } from './media.js';
import { ListAudience, listFits, TagField } from './tags.js';
import { Confirm, ErrorBox, Field, fieldId, problemsAt, ProblemSummary, Title, workerProblems } from './ui.js';

const KINDS = ['text', 'mpnews', 'image', 'voice', 'mpvideo', 'wxcard'];

const initialDraft = () => ({
  key: crypto.randomUUID(),
  kind: 'text',
  text: '',
  mediaId: { image: '', voice: '', mpvideo: '' },
  // What the page knows of a media_id it uploaded or picked: { url, name }, by kind.
  mediaInfo: {},
  video: { title: '', description: '' },
  cardId: '',
  newsMode: 'editor',
  newsMediaId: '',
  articles: [emptyArticle()],
  uploadedNews: null,
  sendIgnoreReprint: false,
  audience: 'everyone',
  tagId: '',
  when: 'now',
  date: '',
  time: '',
  previewBy: 'toWxName',
  previewTo: '',
  cardExt: '',
  // The message last previewed (its JSON), and whether the operator chose to send without one.
  previewedFor: null,
  skipPreview: false,
  // The audience sealed at the worker for the draft's file (kept so a reload need not upload again).
  sealed: null,
  // The audience the worker collects from a tag or from every follower: { id, name, source }.
  collected: null,
});

/** The message as the send and the job take it (camelCase, as the npm package's MassMessage). */
function messageOf(d) {
  switch (d.kind) {
    case 'text':
      return { msgType: 'text', text: { content: d.text } };
    case 'mpnews':
      return { msgType: 'mpnews', mpnews: { mediaId: (d.newsMode === 'editor' ? d.uploadedNews : d.newsMediaId) ?? '' } };
    case 'mpvideo': {
      const mpvideo = { mediaId: d.mediaId.mpvideo };
      if (d.video.title !== '') mpvideo.title = d.video.title;
      if (d.video.description !== '') mpvideo.description = d.video.description;
      return { msgType: 'mpvideo', mpvideo };
    }
    case 'wxcard':
      return { msgType: 'wxcard', wxcard: { cardId: d.cardId } };
    default:
      return { msgType: d.kind, [d.kind]: { mediaId: d.mediaId[d.kind] } };
  }
}

/** The body of POST /api/jobs for the draft (the audience as the worker takes it). */
function jobBodyOf(d, message, upload) {
  let audience;
  if (d.audience === 'everyone') audience = { everyone: true };
  // A number, as the worker checks it against the account's tags (a typed one that is not
  // digits goes as typed, for core's problem).
  else if (d.audience === 'tag') audience = { tagId: /^\d+$/.test(d.tagId.trim()) ? Number(d.tagId.trim()) : d.tagId };
  else if (d.audience === 'file') audience = { audienceId: upload?.sealed?.id ?? null };
  else audience = { audienceId: d.collected?.id ?? null };
  const body = { message, audience };
  if (d.kind === 'mpnews') body.sendIgnoreReprint = d.sendIgnoreReprint;
  if (d.when === 'at') body.sendAt = sendAtOf(d);
  return body;
}

/** A problem of the form itself (not a WeChat rule): the console's words, rule `required`. */
const formProblem = (path, key) => ({ path, rule: 'required', message: t(key), value: null });

/** `sendAt` in China time, as the worker reads it (RFC 3339 with +08:00). */
const sendAtOf = (d) => `${d.date}T${d.time}:00+08:00`;

/**
 * Core's problem with the chosen start, if any (a time more than a minute in the past would send
 * at once: refused at the field, as the worker refuses it), with core's words in zh and en.
 */
function sendAtProblem(d, now = Date.now()) {
  if (d.when !== 'at' || !d.date || !d.time) return null;
  try {
    readSendAt(sendAtOf(d), { now, path: 'sendAt' });
    return null;
  } catch (e) {
    if (!(e instanceof WxmassError) || !e.problems?.[0]) throw e;
    return e.problems[0];
  }
}

export function Compose({ go }) {
  const [d, setDraft] = useState(() => ({ ...initialDraft(), ...loadDraft() }));
  const set = (patch) => setDraft((old) => ({ ...old, ...patch }));
  const [status, setStatus] = useState(null);
  const [statusError, setStatusError] = useState(null);
  // Each screen is made afresh for another account (main.js keys it): the account is fixed here.
  const [account] = useState(getAccount);
  // The OpenID file as the worker read it (its entries stay there): { name, lines, count } | { reading: true }
  const [file, setFile] = useState(null);
  const [upload, setUpload] = useState(null); // { phase, part, sent, total, sealed, error }
  const abort = useRef(null);
  const [planned, setPlanned] = useState(null); // { key, summary, batches, error }
  const [confirming, setConfirming] = useState(false);
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState(null);
  const [preview, setPreview] = useState({ busy: false, done: false, error: null });
  const [kept, setKept] = useState(null); // 'saved' | 'failed' | null
  // The account's tags (GET /api/tags), or why they could not be read (a tag id is typed then).
  const [tags, setTags] = useState(null);
  const [tagsError, setTagsError] = useState(null);
  // The collected audience as the worker last showed it (GET /api/audiences/{id}).
  const [list, setList] = useState(null);

  useEffect(() => {
    api('GET', '/api/status').then(setStatus, setStatusError);
    api('GET', '/api/tags').then((r) => setTags(r.tags), setTagsError);
    // The draft's file comes back from IndexedDB; its sealed audience from the draft.
    if (d.audience === 'file') {
      restoreFile(account).then((f) => {
        if (!f) return;
        setFile(f);
        if (d.sealed) setUpload({ phase: 'done', part: 0, sent: d.sealed.valid, total: f.count, sealed: d.sealed });
      }, () => {});
    }
    return () => abort.current?.abort();
  }, []);

  // The draft is kept as it changes (the file itself when it is read, below).
  useEffect(() => {
    setKept(saveDraft({ ...d, sealed: upload?.sealed ?? null }) ? 'saved' : 'failed');
  }, [d, upload?.sealed]);
  // Leaving while the file is read or uploaded loses that work: the browser asks first.
  const busyWithFile = file?.reading || (upload && !upload.sealed && !upload.error);
  useEffect(() => {
    if (!busyWithFile) return undefined;
    const warn = (e) => {
      e.preventDefault();
      e.returnValue = '';
    };
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [busyWithFile]);
  const discard = () => {
    abort.current?.abort();
    dropDraft();
    forgetFile(account);
    setFile(null);
    setUpload(null);
    setDraft(initialDraft());
  };

  // ---- live checks (core, in the browser) -------------------------------------------------
  const message = messageOf(d);
  const isNewsEditor = d.kind === 'mpnews' && d.newsMode === 'editor';
  const articleProblems = useMemo(
    () => (isNewsEditor ? validateUploadNews({ articles: d.articles.map(articleBody) }).problems : []),
    [isNewsEditor, d.articles],
  );
  const isList = d.audience === 'tagList' || d.audience === 'allList';
  const sendBody = {
    ...message,
    filter: d.audience === 'tag' ? { isToAll: false, tagId: d.tagId } : { isToAll: true },
    ...(d.kind === 'mpnews' ? { sendIgnoreReprint: d.sendIgnoreReprint ? 1 : 0 } : {}),
  };
  const sendProblems = validateSendAll(sendBody).problems;
  const messageJson = JSON.stringify(message);
  // An old preview's answer is about another message: cleared when the message changes.
  const lastMessage = useRef(messageJson);
  useEffect(() => {
    if (lastMessage.current !== messageJson) setPreview({ busy: false, done: false, error: null });
    lastMessage.current = messageJson;
  }, [messageJson]);
  const messageOk = sendProblems.filter((p) => !p.path.startsWith('filter')).length === 0;

  // The plan: the browser plans the audience with planSend (counts, invalid entries, batches); an
  // OpenID file in the worker that read it, everyone or a tag right here (they cost nothing).
  const planKey = JSON.stringify([message, d.audience, d.tagId, d.kind === 'mpnews' && d.sendIgnoreReprint]);
  const fileRead = file !== null && !file.reading;
  // A list the worker collects is planned by the worker (the browser never holds its OpenIDs).
  const canPlan = sendProblems.length === 0 && !isList && (d.audience !== 'file' || fileRead);
  const startMs = d.when === 'at' && d.date && d.time && !sendAtProblem(d) ? Date.parse(sendAtOf(d)) : null;
  useEffect(() => {
    if (!canPlan) {
      setPlanned(null);
      return undefined;
    }
    const input = {
      message,
      ...(d.kind === 'mpnews' ? { sendIgnoreReprint: d.sendIgnoreReprint } : {}),
      ledger: status?.ledger,
      now: Math.max(Date.now(), startMs ?? 0),
    };
    if (d.audience === 'file') {
      let current = true;
      planFile({ account, key: planKey, ...input }).then(
        (result) => current && result && setPlanned({ key: planKey, ...result, error: null }),
        (error) => current && setPlanned({ key: planKey, error }),
      );
      return () => {
        current = false;
      };
    }
    let plan = null;
    try {
      plan = planSend({ jobId: 'console', message, audience: d.audience === 'tag' ? { tagId: d.tagId } : 'everyone', skipInvalid: true, sendIgnoreReprint: input.sendIgnoreReprint });
      setPlanned({ key: planKey, summary: plan.summary({ ledger: input.ledger, now: input.now }), batches: plan.batchCount, error: null });
    } catch (error) {
      setPlanned({ key: planKey, error });
    } finally {
      plan?.free();
    }
    return undefined;
  }, [planKey, file, canPlan, status, startMs]);
  // The summary before the button; Send waits for the plan of the message as it is now.
  const summary = status && planned?.summary ? planned.summary : null;
  const planCurrent = planned?.key === planKey && !planned.error;

  // Problems that keep Send disabled: core's (message, tag), the worker's answer to the last
  // attempt (an unknown tag, an expired media_id: at their fields while the body is the same),
  // then the form's own.
  const jobBody = jobBodyOf(d, message, upload);
  // (A media_id's path names the message's kind only when the body says `msgtype`: the console's
  // `msgType` comes back as `message..mediaId`, which is this draft's media_id field.)
  const refused = createError && createError.body === JSON.stringify(jobBody)
    ? workerProblems(createError).map((p) => (/^\.(mediaId|media_id)$/.test(p.path) ? { ...p, path: `${d.kind}.mediaId` } : p))
    : [];
  const problems = [...articleProblems, ...sendProblems, ...refused];
  const tagNamed = tags?.find((x) => String(x.id) === String(d.tagId).trim());
  if ((d.audience === 'tag' || d.audience === 'tagList') && tags && d.tagId !== '' && !tagNamed) {
    problems.push({ path: d.audience === 'tag' ? 'filter.tagId' : 'source.tagId', rule: 'unknown_tag', message: t('tagUnknown', { tag: d.tagId }), value: d.tagId });
  }
  if (d.audience === 'tagList' && d.tagId === '') problems.push(formProblem('source.tagId', 'tagMissing'));
  const fits = listFits(d.collected, d.audience, d.tagId);
  if (isList) {
    if (!fits) problems.push(formProblem('audience.list', 'listMissing'));
    else if (list?.state === 'failed') problems.push({ path: 'audience.list', rule: 'failed', message: pick(list.failReason, list.failReasonZh) ?? t('listFailed'), value: null });
    else if (list?.state !== 'sealed') problems.push({ path: 'audience.list', rule: 'collecting', message: t('listCollecting', { collected: num(list?.collected ?? 0), total: num(list?.total) }), value: null });
  }
  if (d.audience === 'file') {
    if (!fileRead) problems.push(formProblem('audience.file', 'fileMissing'));
    else if (planned?.error) {
      const e = planned.error;
      const words = { single_recipient: 'planOneOpenId', empty_audience: 'planEmpty' }[e.rule];
      problems.push({ path: 'audience.file', rule: e.rule || e.code, message: words ? t(words) : e.message, value: null });
    } else if (upload?.error) {
      const e = upload.error;
      problems.push({ path: 'audience.file', rule: e.code ?? 'upload', message: e.message, value: null });
    } else if (upload?.sealed && planned?.summary && upload.sealed.batches !== planned.batches) {
      problems.push({ path: 'audience.file', rule: 'mismatch', message: t('uploadMismatch', { worker: upload.sealed.batches, browser: planned.batches }), value: null });
    }
  }
  if (d.when === 'at' && (!d.date || !d.time)) problems.push(formProblem('sendAt', 'dateMissing'));
  const startProblem = sendAtProblem(d);
  if (startProblem) problems.push(startProblem);
  const uploading = d.audience === 'file' && !upload?.sealed && !upload?.error;
  // A send follows a preview of this very message, or the operator's choice to skip it.
  const previewed = d.previewedFor === messageJson;
  const previewProblem = !previewed && !d.skipPreview;
  const planned_ = isList ? list?.state === 'sealed' && fits : summary !== null && planCurrent;
  const ready = problems.length === 0 && planned_ && !uploading && status !== null && !previewProblem;

  // ---- the OpenID file ----------------------------------------------------------------------
  const chooseFile = async (e) => {
    const picked = e.currentTarget.files?.[0];
    abort.current?.abort();
    setUpload(null);
    if (!picked) {
      setFile(null);
      return;
    }
    setFile({ reading: true, name: picked.name });
    setPlanned(null);
    let read;
    try {
      read = await readFile(account, picked);
    } catch (error) {
      setFile(null);
      setUpload({ phase: 'create', part: 0, sent: 0, total: 0, error });
      return;
    }
    setFile(read);
    keepFile(account).catch(() => setKept('failed'));
    const controller = new AbortController();
    abort.current = controller;
    setUpload({ phase: 'create', part: 0, sent: 0, total: read.count });
    try {
      const sealed = await uploadFile({
        account,
        url: location.origin,
        adminToken: getToken(),
        name: read.name,
        signal: controller.signal,
        onProgress: (p) => setUpload((u) => ({ ...u, phase: p.phase, part: p.part, sent: p.sentOpenIds, total: p.totalOpenIds ?? read.count })),
      });
      if (!controller.signal.aborted) {
        remember('audience', sealed.id, read.name);
        setUpload((u) => ({ ...u, phase: 'done', sealed }));
      }
    } catch (error) {
      if (!controller.signal.aborted) setUpload((u) => ({ ...u, error }));
    }
  };

  // ---- preview and send -------------------------------------------------------------------
  const previewBody = {
    ...message,
    ...(d.kind === 'wxcard' && d.cardExt !== '' ? { wxcard: { ...message.wxcard, cardExt: d.cardExt } } : {}),
    [d.previewBy]: d.previewTo,
  };
  const previewProblems = validatePreview(previewBody).problems;
  const sendPreview = async () => {
    setPreview({ busy: true, done: false, error: null });
    try {
      await api('POST', '/api/messages/preview', previewBody);
      setPreview({ busy: false, done: true, error: null });
      set({ previewedFor: messageJson });
    } catch (error) {
      setPreview({ busy: false, done: false, error });
    }
  };

  const createJob = async () => {
    setCreating(true);
    setCreateError(null);
    const body = jobBody;
    try {
      // The draft's key: a retry after a lost answer finds the job already made.
      const job = await api('POST', '/api/jobs', body, { headers: { 'idempotency-key': d.key } });
      // The worker could not read the tags to check the tag: the job page says so.
      if (job.checks?.tagId === 'unchecked') remember('checks', job.id, job.checks);
      if (d.kind === 'mpnews' && d.newsMode === 'editor') remember('news', d.uploadedNews, d.articles.map(({ title, digest, thumbMediaId, thumbUrl }) => ({ title, digest, thumbMediaId, thumbUrl })));
      await dropDraft();
      go(`#/jobs/${job.id}`);
    } catch (error) {
      // Kept with the body it answered: its problems stay at their fields until the body changes.
      error.body = JSON.stringify(body);
      setCreateError(error);
      setConfirming(false);
    } finally {
      setCreating(false);
    }
  };

  const recipients = isList ? list?.valid : summary?.recipients;
  // 标签「星标组」（2）; a tag the list does not name by its id alone.
  const tagWords = getLang() === 'zh' ? (tagNamed ? `「${tagNamed.name}」（${d.tagId}）` : ` ${d.tagId} `) : tagNamed ? `${tagNamed.name} (${d.tagId})` : d.tagId;
  const sendLabel = t(`${d.when === 'at' ? 'scheduleTo' : 'sendTo'}_${d.audience === 'file' || isList ? 'openids' : d.audience}`, { n: num(recipients), tag: tagWords });

  // ---- the page -----------------------------------------------------------------------------
  const field = (path, label, value, onInput, extra = {}) => html`<${Field} path=${path} label=${label} problems=${problems} value=${value} onInput=${(e) => onInput(e.currentTarget.value)} ...${extra} />`;
  const radio = (name, value, current, label, onPick) => html`<div class="radio">
    <input type="radio" id=${`${name}-${value}`} name=${name} value=${value} checked=${current === value} onChange=${() => onPick(value)} />
    <label for=${`${name}-${value}`}>${label}</label>
  </div>`;

  return html`<section aria-labelledby="compose-title">
    <${Title} id="compose-title">${t('composeTitle')}</${Title}>

    <fieldset class="group">
      <legend>${t('kindLegend')}</legend>
      <div class="radios">${KINDS.map((k) => radio('kind', k, d.kind, t(`kind_${k}`), (v) => set({ kind: v })))}</div>
    </fieldset>

    <fieldset class="group" id="message-fields">
      <legend>${t(`kind_${d.kind}`)}</legend>
      ${d.kind === 'text' && field('text.content', t('textContent'), d.text, (v) => set({ text: v }), { as: 'textarea', rows: 5, hint: t('textCount', { n: num(d.text.length) }) })}
      ${d.kind === 'mpvideo' && html`<${VideoUpload} onMade=${(mediaId, video) => set({ mediaId: { ...d.mediaId, mpvideo: mediaId }, video })} />`}
      ${(d.kind === 'image' || d.kind === 'voice') && html`<${MediaChooser} key=${d.kind} kind=${d.kind} path=${`${d.kind}.mediaId`}
        onPicked=${(id, info) => set({ mediaId: { ...d.mediaId, [d.kind]: id }, mediaInfo: { ...d.mediaInfo, [d.kind]: info } })} />`}
      ${(d.kind === 'image' || d.kind === 'voice' || d.kind === 'mpvideo') && field(`${d.kind}.mediaId`, t('mediaId'), d.mediaId[d.kind], (v) => set({ mediaId: { ...d.mediaId, [d.kind]: v }, mediaInfo: { ...d.mediaInfo, [d.kind]: null } }), { hint: t(`mediaIdHint_${d.kind}`), autocomplete: 'off', spellcheck: false })}
      ${d.kind === 'mpvideo' && html`
        ${field('mpvideo.title', t('videoTitle'), d.video.title, (v) => set({ video: { ...d.video, title: v } }))}
        ${field('mpvideo.description', t('videoDescription'), d.video.description, (v) => set({ video: { ...d.video, description: v } }))}`}
      ${d.kind === 'wxcard' && field('wxcard.cardId', t('cardId'), d.cardId, (v) => set({ cardId: v }), { autocomplete: 'off', spellcheck: false })}
      ${d.kind === 'mpnews' && html`
        <fieldset class="group">
          <legend>${t('newsMode')}</legend>
          <div class="radios">
            ${radio('newsMode', 'editor', d.newsMode, t('newsEditor'), (v) => set({ newsMode: v }))}
            ${radio('newsMode', 'media', d.newsMode, t('newsMedia'), (v) => set({ newsMode: v }))}
          </div>
        </fieldset>
        ${d.newsMode === 'media'
          ? field('mpnews.mediaId', t('mediaId'), d.newsMediaId, (v) => set({ newsMediaId: v }), { hint: t('newsMediaHint'), autocomplete: 'off', spellcheck: false })
          : html`<${ArticlesEditor} articles=${d.articles} problems=${articleProblems}
              setArticles=${(articles) => set({ articles, uploadedNews: null, newsStale: d.newsStale || d.uploadedNews !== null })}
              uploaded=${d.uploadedNews} stale=${d.newsStale && d.uploadedNews === null}
              setUploaded=${(id) => {
                remember('news', id, d.articles.map(({ title, digest, thumbMediaId, thumbUrl }) => ({ title, digest, thumbMediaId, thumbUrl })));
                set({ uploadedNews: id, newsStale: false });
              }}
              mediaIdProblems=${problemsAt(problems, 'mpnews.mediaId')} />`}
        <fieldset class="group">
          <legend>${t('reprintLegend')}</legend>
          <p class="hint" id="reprint-hint">${t('sendIgnoreReprintHint')}</p>
          <div class="check">
            <input type="checkbox" id=${fieldId('sendIgnoreReprint')} checked=${d.sendIgnoreReprint} aria-describedby="reprint-hint" onChange=${(e) => set({ sendIgnoreReprint: e.currentTarget.checked })} />
            <label for=${fieldId('sendIgnoreReprint')}>${t('sendIgnoreReprint')}</label>
          </div>
        </fieldset>`}
    </fieldset>

    <fieldset class="group" id="audience">
      <legend>${t('audienceLegend')}</legend>
      <div class="radios">
        ${radio('audience', 'everyone', d.audience, t('audEveryone'), (v) => set({ audience: v }))}
        ${radio('audience', 'tag', d.audience, t('audTag'), (v) => set({ audience: v }))}
        ${radio('audience', 'tagList', d.audience, t('audTagList'), (v) => set({ audience: v }))}
        ${radio('audience', 'allList', d.audience, t('audAllList'), (v) => set({ audience: v }))}
        ${radio('audience', 'file', d.audience, t('audFile'), (v) => set({ audience: v }))}
      </div>
      ${(d.audience === 'tag' || d.audience === 'tagList') && html`<${TagField} path=${d.audience === 'tag' ? 'filter.tagId' : 'source.tagId'} tags=${tags} error=${tagsError}
        value=${d.tagId} problems=${problems} onPick=${(v) => set({ tagId: v })} />`}
      ${isList && html`<${ListAudience} mode=${d.audience} tagId=${d.tagId} tag=${tagNamed} collected=${fits ? d.collected : null} list=${fits ? list : null}
        problems=${problems} onCollected=${(collected, view) => { set({ collected }); setList(view); }} onView=${setList} />`}
      ${d.audience === 'file' && html`
        <${Field} path="audience.file" label=${t('fileLabel')} problems=${problems} type="file" accept=".txt,.csv,text/plain,text/csv" onChange=${chooseFile} />
        <${FileReport} file=${file} planned=${planned} messageOk=${messageOk} upload=${upload} />`}
    </fieldset>

    <fieldset class="group">
      <legend>${t('scheduleLegend')}</legend>
      <div class="radios">
        ${radio('when', 'now', d.when, t('sendNow'), (v) => set({ when: v }))}
        ${radio('when', 'at', d.when, t('sendAt'), (v) => set({ when: v }))}
      </div>
      ${d.when === 'at' && html`<div class="row">
        ${field('sendAt', t('date'), d.date, (v) => set({ date: v }), { type: 'date' })}
        <${Field} path="sendAt.time" label=${t('time')} value=${d.time} type="time" onInput=${(e) => set({ time: e.currentTarget.value })} />
      </div>`}
    </fieldset>

    <section class="group" aria-labelledby="summary-title" id="summary">
      <h2 id="summary-title">${t('summaryTitle')}</h2>
      <${ErrorBox} error=${statusError} />
      ${isList && list?.state === 'sealed' && fits && status ? html`<${ListSummary} list=${list} status=${status} />`
        : summary ? html`<${Summary} summary=${summary} status=${status} audience=${d.audience} reprint=${d.kind === 'mpnews' ? d.sendIgnoreReprint : null} />` : html`<p class="hint">${t('summaryWaits')}</p>`}
    </section>

    <section class="group" aria-labelledby="preview-title" id="preview">
      <h2 id="preview-title">${t('previewTitle')}</h2>
      <fieldset class="group">
        <legend>${t('previewTo')}</legend>
        <div class="radios">
          ${radio('previewBy', 'toWxName', d.previewBy, t('previewWxName'), (v) => set({ previewBy: v }))}
          ${radio('previewBy', 'toUser', d.previewBy, t('previewOpenId'), (v) => set({ previewBy: v }))}
        </div>
      </fieldset>
      <${Field} path=${d.previewBy} label=${t('previewTarget')} problems=${problemsAt(previewProblems, d.previewBy)} value=${d.previewTo} onInput=${(e) => set({ previewTo: e.currentTarget.value })} autocomplete="off" spellcheck=${false} />
      ${d.kind === 'wxcard' && html`<${Field} path="wxcard.cardExt" label=${t('cardExt')} problems=${problemsAt(previewProblems, 'wxcard.cardExt')} value=${d.cardExt} onInput=${(e) => set({ cardExt: e.currentTarget.value })} as="textarea" rows="3" />`}
      <button type="button" id="preview-send" onClick=${sendPreview} disabled=${preview.busy || previewProblems.length > 0}>${preview.busy ? t('sending') : t('sendPreview')}</button>
      ${preview.done && html`<p class="ok" role="status" id="preview-done">${t('previewSent')}</p>`}
      <${ErrorBox} error=${preview.error} />
      <div class="check">
        <input type="checkbox" id="skip-preview" checked=${d.skipPreview} aria-describedby="skip-preview-hint" onChange=${(e) => set({ skipPreview: e.currentTarget.checked })} />
        <label for="skip-preview">${t('skipPreview')}</label>
      </div>
      <p class="hint" id="skip-preview-hint">${t('skipPreviewHint')}</p>
    </section>

    <section class="group send" aria-labelledby="send-title">
      <h2 id="send-title" class="visually-hidden">${sendLabel}</h2>
      <${ProblemSummary} problems=${problems} />
      <button type="button" class="primary big" id="send" disabled=${!ready} aria-describedby=${ready ? undefined : 'send-disabled'} onClick=${() => setConfirming(true)}>${sendLabel}</button>
      ${!ready && html`<p class="hint" id="send-disabled">${problems.length === 0 && previewProblem ? t('sendNeedsPreview') : t('sendDisabled')}</p>`}
      <${ErrorBox} error=${createError} />
      <div class="row draft-row">
        <p class="hint" role="status" id="draft-state">${kept === 'failed' ? t('draftNotKept') : t('draftKept')}</p>
        <button type="button" id="discard-draft" onClick=${discard}>${t('discardDraft')}</button>
      </div>
    </section>

    ${confirming && html`<${Confirm} title=${t('confirmTitle')} yes=${creating ? t('creating') : t('confirmYes')} no=${t('confirmNo')} busy=${creating}
        onYes=${createJob} onNo=${() => setConfirming(false)}>
      <p class="confirm-count" id="confirm-text">${sendLabel}</p>
      <${MessageView} message=${message} articles=${isNewsEditor ? d.articles : undefined} media=${d.mediaInfo?.[d.kind] ?? undefined} id="confirm-message" />
      ${isList ? html`<p>${t('confirmBatches', { n: num(list.batches) })}</p><p class="hint">${t('listPlanNote')}</p>` : html`
      <p>${t('confirmBatches', { n: num(summary.batches) })} · ${t('confirmAt', { at: startText(summary, status) })}</p>
      <h3>${t('scheduleDays')}</h3>
      <ul id="confirm-schedule">${summary.schedule.map((day) => html`<li>${dayText(day)}</li>`)}</ul>
      <h3>${t('quotaAfter')}</h3>
      <ul id="confirm-quota">${status.quota.map((r) => {
        const use = planUse(r, summary);
        return html`<li>${pick(r.text, r.textZh)}${getLang() === 'zh' ? '：' : ': '}${t(`quotaAfter_${r.window}`, { left: num(r.left), use: num(use), after: num(Math.max(0, r.left - use)) })}</li>`;
      })}</ul>`}
    </${Confirm}>`}
  </section>`;
}

function FileReport({ file, planned, messageOk, upload }) {
  if (!file) return null;
  if (file.reading) return html`<p role="status">${t('loading')}</p>`;
  const s = planned?.summary ?? null;
  return html`<div class="file-report" id="file-report">
    <p role="status">${t('fileRead', { file: file.name, lines: num(file.lines), entries: num(file.count) })}</p>
    ${!s && !planned?.error && !messageOk && html`<p class="hint">${t('planWaits')}</p>`}
    ${s && html`<dl class="counts">
      <div><dt>${t('valid')}</dt><dd id="count-valid">${num(s.recipients)}</dd></div>
      <div><dt>${t('invalid')}</dt><dd id="count-invalid">${num(s.invalidSkipped)}</dd></div>
      <div><dt>${t('duplicates')}</dt><dd id="count-duplicates">${num(s.duplicatesDropped)}</dd></div>
      <div><dt>${t('batches')}</dt><dd id="count-batches">${num(s.batches)}</dd></div>
    </dl>
    ${s.invalidShown.length > 0 && html`<div class="invalid-lines" id="invalid-lines">
      <p>${t('invalidLines', { n: s.invalidShown.length })}</p>
      <ul>${s.invalidShown.map((x) => html`<li>${t('line', { n: num(x.line) })}: <code>${x.value}</code></li>`)}</ul>
    </div>`}`}
    ${upload && html`<div class="upload">
      <label for="upload-progress">${t('uploadProgress')}</label>
      <progress id="upload-progress" max=${upload.total || 1} value=${upload.phase === 'done' ? upload.total || 1 : upload.sent}></progress>
      <p role="status" id="upload-status">${upload.sealed
        ? t('uploadPhase_done', { id: upload.sealed.id, valid: num(upload.sealed.valid), duplicates: num(upload.sealed.duplicates), invalid: num(upload.sealed.invalid), batches: num(upload.sealed.batches) })
        : upload.error ? '' : t(`uploadPhase_${upload.phase}`, { sent: num(upload.sent), total: num(upload.total), part: upload.part })}</p>
    </div>`}
  </div>`;
}

/** One China day of the schedule: its batches and when they start. */
const dayText = (day) => t(day.firstBatch === day.lastBatch ? 'scheduleDayOne' : 'scheduleDay', { first: day.firstBatch, last: day.lastBatch, at: chinaTime(day.startsAt) });

/** The earliest start in words: now, a China time and the rule holding it, or never. */
function startText(summary, status) {
  const e = summary.earliestStart;
  if (e.decision === 'never') return `${t('startNever')}${pick(e.reason, e.reasonZh)}`;
  const at = summary.schedule[0]?.startsAt;
  const rule = status?.quota.find((r) => r.rule === e.rule);
  if (e.decision === 'not_before') return `${chinaTime(e.at)}${getLang() === 'zh' ? '（' : ' ('}${t('heldBy')}${rule ? pick(rule.text, rule.textZh) : e.rule}${getLang() === 'zh' ? '）' : ')'}`;
  return at !== undefined && at > Date.now() + 60_000 ? chinaTime(at) : `${t('startNow')} (${chinaTime(at ?? Date.now())})`;
}

/**
 * The summary of a list the worker collected: its counts as the worker sealed them and the quota
 * as it stands; the worker plans the batches' days when the job is made (the job page shows them).
 */
function ListSummary({ list, status }) {
  return html`<div class="summary">
    <dl class="counts">
      <div><dt>${t('recipients')}</dt><dd id="summary-recipients">${num(list.valid)}</dd></div>
      <div><dt>${t('batches')}</dt><dd id="summary-batches">${num(list.batches)}</dd></div>
      <div><dt>${t('duplicates')}</dt><dd>${num(list.duplicates)}</dd></div>
    </dl>
    <p class="hint">${t('listPlanNote')}</p>
    <h3>${t('quotaTitle')}</h3>
    <ul id="quota">${status.quota.map((r) => html`<li>${pick(r.text, r.textZh)}${getLang() === 'zh' ? '：' : ': '}${t(`quotaLeft_${r.window}`, { left: num(r.left), limit: num(r.limit) })}</li>`)}</ul>
  </div>`;
}

function Summary({ summary: s, status, audience, reprint }) {
  const q = s.quotaUsed;
  return html`<div class="summary">
    <dl class="counts">
      <div><dt>${t('recipients')}</dt><dd id="summary-recipients">${s.recipients === null ? t('recipientsByWechat') : num(s.recipients)}</dd></div>
      <div><dt>${t('batches')}</dt><dd id="summary-batches">${num(s.batches)}${s.batchSizes && html` <span class="hint">(${t('batchSizes', { min: num(s.batchSizes[1]), max: num(s.batchSizes[0]) })})</span>`}</dd></div>
      <div><dt>${t('earliestStart')}</dt><dd id="summary-start">${startText(s, status)}</dd></div>
    </dl>
    ${s.schedule.length > 1 && html`<h3>${t('scheduleDays')}</h3><ul>${s.schedule.map((day) => html`<li>${dayText(day)}</li>`)}</ul>`}
    <h3>${t('quotaTitle')}</h3>
    <p>${t('thisPlanUses', { sendall: q.sendallCalls, send: q.sendCalls, toAll: q.toAll ? t('toAllUse') : '' })}</p>
    <div class="scroll" tabindex="0"><table class="quota" id="quota">
      <thead><tr><th scope="col">${t('quotaRule')}</th><th scope="col">${t('quotaWindow')}</th><th scope="col">${t('quotaUsed')}</th><th scope="col">${t('quotaLeft')}</th><th scope="col">${t('quotaLimit')}</th><th scope="col">${t('quotaResets')}</th></tr></thead>
      <tbody>${status.quota.map((r) => html`<tr>
        <td>${pick(r.text, r.textZh)}<br /><code class="hint">${r.rule}</code></td>
        <td>${t(`window_${r.window}`)}</td><td>${num(r.used)}</td><td>${num(r.left)}</td><td>${num(r.limit)}</td><td>${chinaTime(r.resetsAt)}</td>
      </tr>`)}</tbody>
    </table></div>
    <h3>${t('notes')}</h3>
    <ul class="notes" id="summary-notes">
      ${audience === 'everyone' && html`<li>${t('noteToAll')}</li>`}
      ${reprint !== null && html`<li id="note-reprint">${t(reprint ? 'noteReprint1' : 'noteReprint0')}</li>`}
      ${notesOf(s).map(([text, lang]) => html`<li lang=${lang}>${text}</li>`)}
      <li>${t('queuedNote')}</li>
    </ul>
  </div>`;
}


/**
 * The calls of this plan that a quota rule counts in its current window: the batches scheduled
 * before the window ends (a sendall rule counts sendall only; a to-everyone rule the one send).
 */
function planUse(rule, summary) {
  const q = summary.quotaUsed;
  const inWindow = summary.schedule.filter((day) => day.startsAt < rule.resetsAt).reduce((n, day) => n + day.lastBatch - day.firstBatch + 1, 0);
  if (/to_all/.test(rule.rule)) return q.toAll && inWindow > 0 ? 1 : 0;
  if (/sendall/.test(rule.rule)) return q.sendallCalls > 0 ? inWindow : 0;
  return inWindow;
}

/**
 * The video's media_id a send needs is the one uploadvideo makes from an uploaded video (WeChat
 * takes no other): made here from the video's own media_id, title and description.
 */
function VideoUpload({ onMade }) {
  const [v, setV] = useState({ mediaId: '', title: '', description: '' });
  const [state, setState] = useState({ busy: false, made: null, error: null });
  const problems = validateUploadVideo(v).problems;
  const make = async () => {
    setState({ busy: true, made: null, error: null });
    try {
      const reply = await api('POST', '/api/media/uploadvideo', v);
      setState({ busy: false, made: reply.mediaId, error: null });
      onMade(reply.mediaId, { title: v.title, description: v.description });
    } catch (error) {
      setState({ busy: false, made: null, error });
    }
  };
  const input = (name, label, hint) => html`<${Field} path=${`uploadvideo.${name}`} label=${label} hint=${hint} problems=${problems.map((p) => ({ ...p, path: `uploadvideo.${p.path}` }))}
    value=${v[name]} onInput=${(e) => setV({ ...v, [name]: e.currentTarget.value })} autocomplete="off" spellcheck=${false} />`;
  return html`<details class="group video-upload" open=${true}>
    <summary>${t('videoUploadTitle')}</summary>
    <${MediaChooser} kind="video" path="uploadvideo.mediaId" onPicked=${(id) => setV((old) => ({ ...old, mediaId: id }))} />
    ${input('mediaId', t('videoSourceId'), t('videoSourceHint'))}
    ${input('title', t('videoSrcTitle'))}
    ${input('description', t('videoSrcDescription'))}
    <button type="button" id="uploadvideo" onClick=${make} disabled=${state.busy || problems.length > 0}>${state.busy ? t('sending') : t('videoUpload')}</button>
    ${state.made && html`<p class="ok" role="status" id="video-made">${t('videoMade')}<code>${state.made}</code></p>`}
    <${ErrorBox} error=${state.error} />
  </details>`;
}
