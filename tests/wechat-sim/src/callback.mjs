// The MASSSENDJOBFINISH push: the event XML (shape of seeds 000/002) and one signed HTTP attempt.
import http from 'node:http';
import https from 'node:https';
import { randomInt } from 'node:crypto';
import { encrypt, msgSignature, signature } from './crypto.mjs';

const cdata = (s) => `<![CDATA[${String(s).replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

/**
 * Event XML for a finished job. `job.copyright` ({checkState, items}) and `job.articleUrls` are
 * present for mpnews sends only, as on the platform.
 */
export function eventXml(job, { toUserName, fromUserName, createTime }) {
  const lines = [
    '<xml>',
    `<ToUserName>${cdata(toUserName)}</ToUserName>`,
    `<FromUserName>${cdata(fromUserName)}</FromUserName>`,
    `<CreateTime>${createTime}</CreateTime>`,
    `<MsgType>${cdata('event')}</MsgType>`,
    `<Event>${cdata('MASSSENDJOBFINISH')}</Event>`,
    `<MsgID>${job.msgId}</MsgID>`,
    `<Status>${cdata(job.status)}</Status>`,
    `<TotalCount>${job.counts.total}</TotalCount>`,
    `<FilterCount>${job.counts.filter}</FilterCount>`,
    `<SentCount>${job.counts.sent}</SentCount>`,
    `<ErrorCount>${job.counts.error}</ErrorCount>`,
  ];
  if (job.msgtype === 'mpnews') {
    const c = job.copyright;
    lines.push('<CopyrightCheckResult>', `<Count>${c.items.length}</Count>`, '<ResultList>');
    for (const it of c.items) {
      lines.push(
        '<item>',
        `<ArticleIdx>${it.articleIdx}</ArticleIdx>`,
        `<UserDeclareState>${it.userDeclareState}</UserDeclareState>`,
        `<AuditState>${it.auditState}</AuditState>`,
        `<OriginalArticleUrl>${cdata(it.originalArticleUrl)}</OriginalArticleUrl>`,
        `<OriginalArticleType>${it.originalArticleType}</OriginalArticleType>`,
        `<CanReprint>${it.canReprint}</CanReprint>`,
        `<NeedReplaceContent>${it.needReplaceContent}</NeedReplaceContent>`,
        `<NeedShowReprintSource>${it.needShowReprintSource}</NeedShowReprintSource>`,
        '</item>',
      );
    }
    lines.push('</ResultList>', `<CheckState>${c.checkState}</CheckState>`, '</CopyrightCheckResult>');
    const urls = job.status === 'send success' ? job.articleUrls : [];
    lines.push('<ArticleUrlResult>', `<Count>${urls.length}</Count>`, '<ResultList>');
    urls.forEach((u, i) => {
      lines.push('<item>', `<ArticleIdx>${i + 1}</ArticleIdx>`, `<ArticleUrl>${cdata(u)}</ArticleUrl>`, '</item>');
    });
    lines.push('</ResultList>', '</ArticleUrlResult>');
  }
  lines.push('</xml>');
  return lines.join('\n');
}

/**
 * Build the signed request for one attempt: plain, compat (plain fields + <Encrypt>) or safe
 * (only ToUserName + <Encrypt>). Returns { url, body, query }.
 */
export function signedPush(xml, cfg, { toUserName, openid, timestamp }) {
  const nonce = String(randomInt(100000000, 2000000000));
  const url = new URL(cfg.callbackUrl);
  const q = { signature: signature(cfg.callbackToken, timestamp, nonce), timestamp, nonce, openid };
  let body = xml;
  if (cfg.callbackMode === 'safe' || cfg.callbackMode === 'compat') {
    const enc = encrypt(xml, cfg.encodingAESKey, cfg.appId);
    q.encrypt_type = 'aes';
    q.msg_signature = msgSignature(cfg.callbackToken, timestamp, nonce, enc);
    body =
      cfg.callbackMode === 'safe'
        ? `<xml>\n<ToUserName>${cdata(toUserName)}</ToUserName>\n<Encrypt>${cdata(enc)}</Encrypt>\n</xml>`
        : xml.replace(/<\/xml>$/, `<Encrypt>${cdata(enc)}</Encrypt>\n</xml>`);
  }
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  return { url: url.toString(), body, query: q };
}

/**
 * POST once; resolves { ok, status, body, error, ms }. ok = HTTP 200 within timeoutMs (WeChat
 * only waits 5 s). `track(abort)` registers the request so the simulator can abort it on close.
 */
export function postOnce(url, body, timeoutMs, track) {
  return new Promise((resolve) => {
    const started = Date.now();
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      untrack();
      resolve({ ...r, ms: Date.now() - started });
    };
    const req = mod.request(u, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(body), 'user-agent': 'Mozilla/4.0 (wechat-sim)' },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, body: null, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    const untrack = track(() => {
      finish({ ok: false, status: null, body: null, error: 'simulator closed' });
      req.destroy();
    });
    req.on('error', (e) => finish({ ok: false, status: null, body: null, error: e.message }));
    req.on('response', (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        if (size <= 65536) chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        finish({ ok: res.statusCode === 200, status: res.statusCode, body: text, error: res.statusCode === 200 ? null : `HTTP ${res.statusCode}` });
      });
      res.on('error', (e) => finish({ ok: false, status: res.statusCode, body: null, error: e.message }));
    });
    req.end(body);
  });
}
