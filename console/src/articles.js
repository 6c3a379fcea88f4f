// The mpnews articles editor: 1–8 articles (core says how many are allowed), each with its cover
// thumb_media_id and comment flags; body images go through uploadimg, the articles through
// uploadnews, whose media_id the send then uses.
import { useState } from 'preact/hooks';
import { validateUploadImg, validateUploadNews } from 'wxmass';
import { html } from './html.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { Check, ErrorBox, Field, fieldId, problemsAt, ProblemText } from './ui.js';
import { MediaChooser } from './media.js';

export const emptyArticle = () => ({
  title: '', author: '', digest: '', content: '', contentSourceUrl: '', thumbMediaId: '', thumbUrl: '',
  showCoverPic: false, needOpenComment: false, onlyFansCanComment: false,
});

/** An article as uploadnews takes it (camelCase; optional fields only when given; flags 0/1). */
export function articleBody(a) {
  const body = { thumbMediaId: a.thumbMediaId, title: a.title, content: a.content };
  for (const k of ['author', 'digest', 'contentSourceUrl']) if (a[k] !== '') body[k] = a[k];
  for (const k of ['showCoverPic', 'needOpenComment', 'onlyFansCanComment']) body[k] = a[k] ? 1 : 0;
  return body;
}

function BodyImage({ index, onInserted }) {
  const [state, setState] = useState({ busy: false, problems: [], error: null, url: null });
  const path = `articles[${index}].bodyImage`;
  const pick = async (e) => {
    const input = e.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    const media = new Uint8Array(await file.arrayBuffer());
    // Core checks the image (JPEG or PNG by its bytes, its size) before it leaves the browser.
    const check = validateUploadImg({ filename: file.name, media });
    if (!check.ok) {
      setState({ busy: false, problems: check.problems.map((p) => ({ ...p, path })), error: null, url: null });
      return;
    }
    setState({ busy: true, problems: [], error: null, url: null });
    const form = new FormData();
    form.append('media', file, file.name);
    try {
      const { url } = await api('POST', '/api/media/uploadimg', form);
      setState({ busy: false, problems: [], error: null, url });
      onInserted(url);
    } catch (err) {
      setState({ busy: false, problems: [], error: err, url: null });
    }
    input.value = '';
  };
  return html`<div>
    <${Field} path=${path} label=${t('bodyImage')} problems=${state.problems} type="file" accept="image/jpeg,image/png" onChange=${pick} disabled=${state.busy} />
    ${state.busy && html`<p role="status">${t('uploadingImage')}</p>`}
    ${state.url && html`<p role="status" class="ok">${t('imageInserted')}<code>${state.url}</code></p>`}
    <${ErrorBox} error=${state.error} />
  </div>`;
}

export function ArticlesEditor({ articles, setArticles, problems, uploaded, stale, setUploaded, mediaIdProblems }) {
  // Core says how many articles uploadnews takes: one more would be a count problem at `articles`.
  const full = validateUploadNews({ articles: [...articles, emptyArticle()].map(articleBody) }).problems.some((p) => p.path === 'articles' && p.rule === 'count');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const update = (i, patch) => setArticles(articles.map((a, j) => (j === i ? { ...a, ...patch } : a)));
  const remove = (i) => setArticles(articles.filter((_, j) => j !== i));
  const up = (i) => setArticles(articles.map((a, j) => (j === i - 1 ? articles[i] : j === i ? articles[i - 1] : a)));
  const upload = async () => {
    setBusy(true);
    setError(null);
    try {
      const reply = await api('POST', '/api/media/uploadnews', { articles: articles.map(articleBody) });
      setUploaded(reply.mediaId);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const listProblems = problemsAt(problems, 'articles');
  return html`<div class="articles">
    ${listProblems.length > 0 && html`<p class="error-message" id=${fieldId('articles')} tabindex="-1">${listProblems.map((p) => html`<span><${ProblemText} p=${p} /></span>`)}</p>`}
    ${articles.map((a, i) => {
      const f = (name) => `articles[${i}].${name}`;
      const text = (name, label, extra = {}) => html`<${Field} path=${f(name)} label=${label} problems=${problems} value=${a[name]} onInput=${(e) => update(i, { [name]: e.currentTarget.value })} ...${extra} />`;
      return html`<fieldset class="article" key=${i}>
        <legend>${t('article', { n: i + 1 })}</legend>
        ${text('title', t('articleTitle'))}
        <${MediaChooser} kind="thumb" path=${f('thumbMediaId')} onPicked=${(id, info) => update(i, { thumbMediaId: id, thumbUrl: info.url ?? '' })} />
        ${a.thumbUrl && html`<img class="cover-preview" src=${a.thumbUrl} alt=${t('cover')} referrerpolicy="no-referrer" />`}
        <${Field} path=${f('thumbMediaId')} label=${t('articleThumb')} problems=${problems} value=${a.thumbMediaId}
          onInput=${(e) => update(i, { thumbMediaId: e.currentTarget.value, thumbUrl: '' })} autocomplete="off" spellcheck=${false} />
        ${text('author', t('articleAuthor'))}
        ${text('digest', t('articleDigest'))}
        ${text('content', t('articleContent'), { as: 'textarea', rows: 6 })}
        <${BodyImage} index=${i} onInserted=${(url) => update(i, { content: `${a.content}<p><img src="${url}" /></p>` })} />
        ${text('contentSourceUrl', t('articleSourceUrl'), { type: 'url' })}
        <${Check} path=${f('showCoverPic')} label=${t('showCoverPic')} checked=${a.showCoverPic} onChange=${(v) => update(i, { showCoverPic: v })} problems=${problems} />
        <${Check} path=${f('needOpenComment')} label=${t('needOpenComment')} checked=${a.needOpenComment} onChange=${(v) => update(i, { needOpenComment: v })} problems=${problems} />
        <${Check} path=${f('onlyFansCanComment')} label=${t('onlyFansCanComment')} checked=${a.onlyFansCanComment} onChange=${(v) => update(i, { onlyFansCanComment: v })} problems=${problems} />
        <div class="row">
          ${i > 0 && html`<button type="button" onClick=${() => up(i)}>${t('moveUp', { n: i + 1 })}</button>`}
          ${articles.length > 1 && html`<button type="button" onClick=${() => remove(i)}>${t('removeArticle', { n: i + 1 })}</button>`}
        </div>
      </fieldset>`;
    })}
    <div class="row">
      <button type="button" id="add-article" onClick=${() => setArticles([...articles, emptyArticle()])} disabled=${full}>${t('addArticle')}</button>
      ${full && html`<span class="hint">${t('articlesFull', { n: articles.length })}</span>`}
    </div>
    <div class=${`field${mediaIdProblems.length ? ' field-error' : ''}`}>
      ${mediaIdProblems.length > 0 && html`<p class="error-message" id=${`${fieldId('mpnews.mediaId')}-error`}>${mediaIdProblems.map((p) => html`<span><${ProblemText} p=${p} /></span>`)}</p>`}
      <button type="button" class="primary" id=${fieldId('mpnews.mediaId')} onClick=${upload} disabled=${busy || problems.length > 0}
        aria-describedby=${mediaIdProblems.length ? `${fieldId('mpnews.mediaId')}-error` : undefined}>${busy ? t('uploadingNews') : t('uploadNews')}</button>
      ${uploaded && html`<p class="ok" role="status">${t('newsUploaded')}<code id="news-media-id">${uploaded}</code></p>`}
      ${stale && html`<p class="error-message" role="status" id="news-stale">${t('newsStale')}</p>`}
    </div>
    <${ErrorBox} error=${error} />
  </div>`;
}
