// A message as the follower will see it: a chat bubble for text, the article cards of an mpnews
// (titles and covers), an image, a voice, a video or a card. Used by the confirm dialog (the last
// look before sending) and the job page (what went out).
import { html } from './html.js';
import { getLang, num, t } from './i18n.js';
import { recall } from './local.js';

const idOf = (m, kind) => m[kind]?.mediaId ?? m[kind]?.media_id ?? '';

/**
 * `message`: the job's message (camelCase, as the send takes it). `articles`: the mpnews' articles
 * when known (the draft's, or what this browser remembered at uploadnews).
 */
export function MessageView({ message, articles, id }) {
  const kind = message.msgType ?? message.msgtype;
  const news = kind === 'mpnews' ? articles ?? recall('news', idOf(message, 'mpnews')) : null;
  let body;
  if (kind === 'text') body = html`<p class="bubble">${message.text?.content}</p>`;
  else if (kind === 'mpnews') {
    body = news?.length
      ? html`<ol class="news-cards">${news.map((a, i) => html`<li class=${i === 0 ? 'news-lead' : ''}>
          <span class="cover" role="img" aria-label=${t('coverOf', { id: a.thumbMediaId })}>${t('cover')}</span>
          <span class="news-title">${a.title}</span>${a.digest && html`<span class="hint">${a.digest}</span>`}
        </li>`)}</ol>`
      : html`<p class="bubble">${t('newsUnknown')} <code>${idOf(message, 'mpnews')}</code></p>`;
  } else if (kind === 'image' || kind === 'voice') {
    body = html`<p class="bubble media"><span class="media-icon" aria-hidden="true">${kind === 'image' ? '🖼' : '🔊'}</span> ${t(`kind_${kind}`)} <code>${idOf(message, kind)}</code></p>`;
  } else if (kind === 'mpvideo') {
    body = html`<div class="bubble media"><span class="media-icon" aria-hidden="true">▶</span> <strong>${message.mpvideo?.title || t('kind_mpvideo')}</strong>
      ${message.mpvideo?.description && html`<p>${message.mpvideo.description}</p>`}<p class="hint"><code>${idOf(message, 'mpvideo')}</code></p></div>`;
  } else if (kind === 'wxcard') {
    body = html`<p class="bubble media"><span class="media-icon" aria-hidden="true">🎫</span> ${t('kind_wxcard')} <code>${message.wxcard?.cardId ?? message.wxcard?.card_id}</code></p>`;
  } else body = html`<p class="bubble">${kind}</p>`;
  return html`<figure class="message-view" id=${id}>
    <figcaption>${t('messageAs', { kind: t(`kind_${kind}`) })}</figcaption>
    ${body}
  </figure>`;
}

/** The audience in words: everyone, tag N, or the OpenID file by its name and count. */
export function audienceText(audience, recipients) {
  if (audience?.everyone) return t('audEveryoneShort');
  if (audience?.tagId !== undefined) return t('audTagShort', { tag: audience.tagId });
  const n = recipients ?? audience?.openids;
  const name = audience?.audienceId ? recall('audience', audience.audienceId) : null;
  return name ? t('audFileShort', { file: name, n: num(n) }) : t('audOpenIdsShort', { n: num(n) });
}

/** Core's notes in the page's language (`notesZh` one for one with `notes`), each with its lang. */
export function notesOf(summary) {
  if (getLang() === 'zh' && summary.notesZh?.length === summary.notes.length) return summary.notesZh.map((n) => [n, 'zh-CN']);
  return summary.notes.map((n) => [n, 'en']);
}

