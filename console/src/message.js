// A message as the follower will see it: a chat bubble for text, the article cards of an mpnews
// (titles and covers), an image, a voice, a video or a card. Used by the confirm dialog (the last
// look before sending) and the job page (what went out).
import { html } from './html.js';
import { chinaTime, getLang, num, t } from './i18n.js';
import { recall } from './local.js';

const idOf = (m, kind) => m[kind]?.mediaId ?? m[kind]?.media_id ?? '';

/** A cover or an image by its url (WeChat's image host serves none to a page that sends a Referer). */
const Picture = ({ url, label, cls }) => (url
  ? html`<img class=${cls} src=${url} alt=${label} referrerpolicy="no-referrer" loading="lazy" />`
  : html`<span class=${`${cls} placeholder`} role="img" aria-label=${label}>${t('cover')}</span>`);

/**
 * `message`: the job's message (camelCase, as the send takes it). `articles`: the mpnews' articles
 * when known (the draft's, with their covers' `thumbUrl`); else the worker's `media` (the job's
 * media record: its url, its articles' titles and covers' urls), else what this browser
 * remembered at uploadnews. A placeholder stands in for an image only when no url is known.
 */
export function MessageView({ message, articles, media, id }) {
  const kind = message.msgType ?? message.msgtype;
  const known = media?.articles?.length ? media.articles : null;
  const news = kind === 'mpnews' ? articles ?? known ?? recall('news', idOf(message, 'mpnews')) : null;
  let body;
  if (kind === 'text') body = html`<p class="bubble">${message.text?.content}</p>`;
  else if (kind === 'mpnews') {
    body = news?.length
      ? html`<ol class="news-cards">${news.map((a, i) => html`<li class=${i === 0 ? 'news-lead' : ''}>
          <${Picture} cls="cover" url=${a.thumbUrl} label=${a.thumbUrl ? t('cover') : t('coverOf', { id: a.thumbMediaId })} />
          <span class="news-title">${a.title}</span>${a.digest && html`<span class="hint">${a.digest}</span>`}
        </li>`)}</ol>`
      : html`<p class="bubble">${t('newsUnknown')} <code>${idOf(message, 'mpnews')}</code></p>`;
  } else if (kind === 'image' && (media?.url || message.image?.url)) {
    const url = media?.url ?? message.image.url;
    body = html`<div class="bubble media"><${Picture} cls="picture" url=${url} label=${t('imageOf', { name: media?.name ?? '' })} />
      <p class="hint"><code>${idOf(message, kind)}</code></p></div>`;
  } else if (kind === 'image' || kind === 'voice') {
    body = html`<p class="bubble media"><span class="media-icon" aria-hidden="true">${kind === 'image' ? '🖼' : '🔊'}</span> ${t(`kind_${kind}`)} ${media?.name && html`${media.name} `}<code>${idOf(message, kind)}</code></p>`;
  } else if (kind === 'mpvideo') {
    body = html`<div class="bubble media"><span class="media-icon" aria-hidden="true">▶</span> <strong>${message.mpvideo?.title || t('kind_mpvideo')}</strong>
      ${message.mpvideo?.description && html`<p>${message.mpvideo.description}</p>`}<p class="hint"><code>${idOf(message, 'mpvideo')}</code></p></div>`;
  } else if (kind === 'wxcard') {
    body = html`<p class="bubble media"><span class="media-icon" aria-hidden="true">🎫</span> ${t('kind_wxcard')} <code>${message.wxcard?.cardId ?? message.wxcard?.card_id}</code></p>`;
  } else body = html`<p class="bubble">${kind}</p>`;
  return html`<figure class="message-view" id=${id}>
    <figcaption>${t('messageAs', { kind: t(`kind_${kind}`) })}</figcaption>
    ${body}
    ${media?.expiresAt && html`<p class="hint">${t('mediaExpires', { at: chinaTime(media.expiresAt) })}</p>`}
  </figure>`;
}

/**
 * The audience in words: everyone, tag N, or an OpenID list by its name (the worker's, since it
 * keeps one; else the file name this browser remembered) and count, with where it came from.
 */
export function audienceText(audience, recipients) {
  if (audience?.everyone) return t('audEveryoneShort');
  if (audience?.tagId !== undefined) return t('audTagShort', { tag: audience.tagId });
  const n = num(recipients ?? audience?.openids);
  const name = audience?.name || (audience?.audienceId ? recall('audience', audience.audienceId) : null);
  const source = audience?.source;
  const from = source === 'followers' ? t('audSourceFollowers') : source?.tagId !== undefined ? t('audSourceTag', { tag: source.tagId }) : null;
  const text = name ? t(from ? 'audNamedShort' : 'audFileShort', { file: name, name, n }) : t('audOpenIdsShort', { n });
  return from ? `${text}${getLang() === 'zh' ? '（' : ' ('}${from}${getLang() === 'zh' ? '）' : ')'}` : text;
}

/** Core's notes in the page's language (`notesZh` one for one with `notes`), each with its lang. */
export function notesOf(summary) {
  if (getLang() === 'zh' && summary.notesZh?.length === summary.notes.length) return summary.notesZh.map((n) => [n, 'zh-CN']);
  return summary.notes.map((n) => [n, 'en']);
}

