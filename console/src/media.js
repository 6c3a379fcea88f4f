// Where a composer's media_id comes from, without leaving the page: a file uploaded here (core
// checks its size and format from the bytes before it leaves the browser), or an item picked from
// the account's material library (GET /api/material, paged, images with their thumbnails).
import { useEffect, useState } from 'preact/hooks';
import { validateAddMaterial, validateMediaUpload } from 'wxmass';
import { html } from './html.js';
import { num, t } from './i18n.js';
import { api, uploadBytes } from './api.js';
import { ErrorBox, Field } from './ui.js';

/**
 * Per kind of media_id: where an upload goes and what the library lists. Images and covers go to
 * the permanent library (add_material): they keep, and WeChat gives them a url the page can show.
 * Voice and video go up as temporary media (media/upload, kept 3 days by WeChat), which is what a
 * mass send takes and what uploadvideo turns into the send's video; the library offers the
 * account's permanent ones.
 */
const KINDS = {
  image: { route: 'material', type: 'image', library: 'image', accept: 'image/jpeg,image/png,image/gif,image/bmp' },
  thumb: { route: 'material', type: 'image', library: 'image', accept: 'image/jpeg,image/png,image/gif,image/bmp' },
  voice: { route: 'media', type: 'voice', library: 'voice', accept: '.mp3,.amr,audio/mpeg,audio/amr' },
  video: { route: 'media', type: 'video', library: 'video', accept: '.mp4,video/mp4' },
};

const PAGE = 20;

/** The upload's URL: the file's type and name in the query, its bytes as the body. */
const uploadRoute = ({ route, type }, name) => `${route === 'material' ? '/api/material' : '/api/media/upload'}?${new URLSearchParams({ type, filename: name })}`;

/**
 * Upload or pick the media for `path` (the field it fills, e.g. `image.mediaId` or
 * `articles[0].thumbMediaId`); `onPicked(mediaId, { url, name, expiresAt })`.
 */
export function MediaChooser({ kind, path, onPicked }) {
  const k = KINDS[kind];
  const [state, setState] = useState({ busy: false, sent: 0, total: 0, problems: [], error: null, done: null });
  const [open, setOpen] = useState(false);
  const uploadPath = `${path}.upload`;
  const choose = async (e) => {
    const input = e.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    const media = new Uint8Array(await file.arrayBuffer());
    // Core's rules for this type (format from the bytes, the file name's extension, the size).
    const check = (k.route === 'material' ? validateAddMaterial : validateMediaUpload)({ type: k.type, filename: file.name, media });
    if (!check.ok) {
      setState({ busy: false, sent: 0, total: 0, problems: check.problems.map((p) => ({ ...p, path: uploadPath })), error: null, done: null });
      return;
    }
    setState({ busy: true, sent: 0, total: file.size, problems: [], error: null, done: null });
    try {
      const reply = await uploadBytes(uploadRoute(k, file.name), file, { onProgress: (sent, total) => setState((s) => ({ ...s, sent, total })) });
      const made = { mediaId: reply.mediaId, url: reply.url, name: file.name, expiresAt: reply.expiresAt };
      setState({ busy: false, sent: file.size, total: file.size, problems: [], error: null, done: made });
      onPicked(made.mediaId, made);
    } catch (error) {
      setState({ busy: false, sent: 0, total: 0, problems: [], error, done: null });
    }
    input.value = '';
  };
  return html`<div class="media-chooser">
    <${Field} path=${uploadPath} label=${t(`upload_${kind}`)} hint=${t(`uploadWhere_${k.route}`)} problems=${state.problems} type="file" accept=${k.accept} onChange=${choose} disabled=${state.busy} />
    ${state.busy && html`<div class="upload">
      <progress max=${state.total || 1} value=${state.sent} aria-label=${t('uploadingFile')}></progress>
      <span role="status">${t('uploadingBytes', { sent: bytes(state.sent), total: bytes(state.total) })}</span>
    </div>`}
    ${state.done && html`<p class="ok" role="status">${t('mediaUploaded', { name: state.done.name })}<code class="media-made">${state.done.mediaId}</code></p>`}
    <${ErrorBox} error=${state.error} />
    <button type="button" class="library-toggle" aria-expanded=${open ? 'true' : 'false'} onClick=${() => setOpen(!open)}>${t('fromLibrary')}</button>
    ${open && html`<${MaterialPicker} type=${k.library} recent=${k.route === 'material' && state.done ? state.done : null} onPick=${(item) => { setOpen(false); onPicked(item.mediaId, { url: item.url, name: item.name }); }} />`}
  </div>`;
}

/** A size in words: 1.2 MB, 640 KB. */
const bytes = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

/**
 * The account's permanent material of `type`, 20 a page, each item a button that picks it.
 * `recent`: what this chooser just uploaded, shown first until the list has it (the worker
 * answers the list from its cache for up to a minute).
 */
function MaterialPicker({ type, recent, onPick }) {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setError(null);
    api('GET', `/api/material?${new URLSearchParams({ type, offset: String(offset), count: String(PAGE) })}`).then(setPage, setError);
  }, [type, offset]);
  const fresh = recent && offset === 0 && page && !page.items.some((i) => i.mediaId === recent.mediaId) ? [recent] : [];
  const items = page ? [...fresh, ...page.items] : [];
  return html`<div class="library" role="group" aria-label=${t(`library_${type}`)}>
    <${ErrorBox} error=${error} />
    ${!page && !error && html`<p role="status">${t('loading')}</p>`}
    ${page && (items.length === 0 ? html`<p>${t('libraryEmpty')}</p>` : html`
      <p class="hint">${t('libraryCount', { from: num(offset + 1), to: num(offset + page.items.length), n: num(page.totalCount) })}</p>
      <ul class="material-list">${items.map((item) => html`<li>
        <button type="button" class="pick" onClick=${() => onPick(item)} aria-label=${t('pickItem', { name: item.name || item.mediaId })}>
          ${item.url && html`<img src=${item.url} alt="" referrerpolicy="no-referrer" loading="lazy" />`}
          <span class="pick-name">${item.name || item.mediaId}</span>
        </button>
      </li>`)}</ul>`)}
    <div class="row">
      ${offset > 0 && html`<button type="button" onClick=${() => setOffset(Math.max(0, offset - PAGE))}>${t('prevPage')}</button>`}
      ${page && offset + page.items.length < page.totalCount && html`<button type="button" onClick=${() => setOffset(offset + PAGE)}>${t('nextPage')}</button>`}
    </div>
  </div>`;
}
