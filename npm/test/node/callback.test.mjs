// Callbacks and events from the packed package: WeChat's published crypto sample, URL
// verification, opening pushes in every mode, and parsing the result event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as wx from 'wxmass';

// WeChat's official message-crypto sample (WXBizMsgCrypt Java test, as kept in WxJava's
// WxCryptUtilTest): the same values core's own tests use.
const WX = { token: 'pamtest', encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', appId: 'wxb11529c136998cb6' };
const TIMESTAMP = '1409304348';
const NONCE = 'xxxxxx';
const RANDOM = new TextEncoder().encode('aaaabbbbccccdddd');
const REPLY_1 = '我是中文abcd123';
const CIPHER_1 = 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==';
const REPLY_2 = '<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>';
const CIPHER_2 = 'jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb';

// An independent signature (node:crypto), so the test does not check core against itself.
const sha1 = (...parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');

const EVENT = `<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount><FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount><CopyrightCheckResult><Count>2</Count><ResultList><item><ArticleIdx>1</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState><OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType><CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent><NeedShowReprintSource>1</NeedShowReprintSource></item><item><ArticleIdx>2</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState><OriginalArticleUrl><![CDATA[Url_2]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType><CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent><NeedShowReprintSource>1</NeedShowReprintSource></item></ResultList><CheckState>2</CheckState></CopyrightCheckResult><ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[Url]]></ArticleUrl></item></ResultList></ArticleUrlResult></xml>`;

test('MessageCrypto reproduces the published WeChat sample vectors exactly and round-trips', () => {
  const c = new wx.MessageCrypto(WX);
  assert.equal(c.appId, WX.appId);
  assert.equal(c.encrypt(REPLY_1, { random: RANDOM }), CIPHER_1);
  assert.equal(c.encrypt(REPLY_2, { random: RANDOM }), CIPHER_2);
  assert.equal(c.decryptUnsigned(CIPHER_1), REPLY_1);
  const msgSignature = sha1(WX.token, TIMESTAMP, NONCE, CIPHER_2);
  assert.equal(c.signature({ timestamp: TIMESTAMP, nonce: NONCE, encrypt: CIPHER_2 }), msgSignature);
  assert.equal(c.decrypt({ msgSignature, timestamp: TIMESTAMP, nonce: NONCE, encrypt: CIPHER_2 }), REPLY_2);
  // the reply envelope is the sample ciphertext, signed, and opens again through openCallback
  const envelope = c.encryptReply(REPLY_2, { timestamp: TIMESTAMP, nonce: NONCE, random: RANDOM });
  assert.equal(envelope, `<xml><Encrypt><![CDATA[${CIPHER_2}]]></Encrypt><MsgSignature><![CDATA[${msgSignature}]]></MsgSignature><TimeStamp>${TIMESTAMP}</TimeStamp><Nonce><![CDATA[${NONCE}]]></Nonce></xml>`);
  const opened = wx.openCallback({ ...WX, query: { timestamp: TIMESTAMP, nonce: NONCE, encrypt_type: 'aes', msg_signature: msgSignature }, body: envelope });
  assert.deepEqual(opened, { mode: 'aes', xml: REPLY_2 });
  // random prefixes by default: two encryptions differ, both decrypt
  const a = c.encrypt('hello');
  const b = c.encrypt('hello');
  assert.notEqual(a, b);
  assert.equal(c.decryptUnsigned(a), 'hello');
  assert.equal(c.decryptUnsigned(c.encryptReply('x').match(/CDATA\[([^\]]+)\]\]><\/Encrypt>/)[1]), 'x');
});

test('crypto errors are WxmassError with code callback and core rule names', () => {
  const c = new wx.MessageCrypto(WX);
  const rule = (f) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof wx.WxmassError);
      assert.equal(e.code, 'callback');
      return [e.rule, e.path];
    }
    assert.fail('did not throw');
  };
  assert.deepEqual(rule(() => c.decrypt({ msgSignature: '0'.repeat(40), timestamp: TIMESTAMP, nonce: NONCE, encrypt: CIPHER_2 })), ['signature_mismatch', '']);
  const other = new wx.MessageCrypto({ ...WX, appId: 'wx0000000000000000' });
  assert.equal(rule(() => other.decryptUnsigned(CIPHER_1))[0], 'appid_mismatch');
  assert.equal(rule(() => c.decryptUnsigned('not base64!'))[0], 'base64');
  assert.deepEqual(rule(() => new wx.MessageCrypto({ ...WX, encodingAesKey: 'short' })), ['invalid_aes_key', 'encodingAesKey']);
  assert.equal(rule(() => c.encrypt('x', { random: new Uint8Array(3) }))[0], 'random_bytes');
});

test('verifyUrl echoes echostr only for a matching signature (string, object or URLSearchParams)', () => {
  const token = 'wxmasstoken';
  const q = { signature: sha1(token, '1700000000', 'n0nce'), timestamp: '1700000000', nonce: 'n0nce', echostr: 'echo 回声+/=' };
  assert.equal(wx.verifyUrl(token, q), 'echo 回声+/=');
  assert.equal(wx.verifyUrl(token, new URLSearchParams(q)), q.echostr);
  assert.equal(wx.verifyUrl(token, '?' + new URLSearchParams(q).toString()), q.echostr);
  assert.throws(() => wx.verifyUrl('other', q), (e) => e instanceof wx.WxmassError && e.rule === 'signature_mismatch');
  assert.throws(() => wx.verifyUrl(token, { ...q, echostr: undefined }), (e) => e.rule === 'missing_parameter' && e.path === 'query.echostr');
});

test('openCallback: plain mode by signature; aes needs a key; skew checked when now is given', () => {
  const token = 'wxmasstoken';
  const query = { signature: sha1(token, '1700000000', 'abc'), timestamp: '1700000000', nonce: 'abc' };
  const plain = wx.openCallback({ token, query, body: EVENT });
  assert.equal(plain.mode, 'plain');
  assert.equal(plain.xml, EVENT);
  // A plain signature does not cover the body: the guard tells a forged body from a retry.
  const forged = wx.openCallback({ token, query, body: EVENT.replace('1000001625', '1000001626') });
  assert.equal(forged.replayGuard.key, plain.replayGuard.key);
  assert.notEqual(forged.replayGuard.bodyDigest, plain.replayGuard.bodyDigest);
  assert.equal(plain.replayGuard.rememberUntil, (1700000000 + 300) * 1000);
  assert.throws(() => wx.openCallback({ token: 'x', query, body: EVENT }), (e) => e.rule === 'signature_mismatch');
  const crypto = new wx.MessageCrypto({ token, encodingAesKey: WX.encodingAesKey, appId: WX.appId });
  const encrypt = crypto.encrypt(EVENT);
  const aes = { ...query, encrypt_type: 'aes', msg_signature: sha1(token, '1700000000', 'abc', encrypt) };
  const body = `<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  const opened = wx.openCallback({ token, encodingAesKey: WX.encodingAesKey, appId: WX.appId, query: aes, body: new TextEncoder().encode(body) });
  assert.equal(opened.mode, 'aes');
  assert.equal(wx.parseEvent(opened.xml).msgId, '1000001625');
  assert.equal(opened.replayGuard, undefined);
  assert.throws(() => wx.openCallback({ token, query: aes, body }), (e) => e.rule === 'aes_key_not_configured');
  // With a key the mode defaults to safe: a plain push is refused unless plain is configured.
  const withKey = { token, encodingAesKey: WX.encodingAesKey, appId: WX.appId, query, body: EVENT };
  assert.throws(() => wx.openCallback(withKey), (e) => e instanceof wx.WxmassError && e.rule === 'plain_push_refused');
  assert.throws(() => wx.openCallback({ ...withKey, mode: 'compat' }), (e) => e.rule === 'plain_push_refused');
  assert.equal(wx.openCallback({ ...withKey, mode: 'plain' }).mode, 'plain');
  assert.throws(() => wx.openCallback({ token, query, body: EVENT, mode: 'safe' }), (e) => e.rule === 'aes_key_not_configured');
  assert.throws(() => wx.openCallback({ ...withKey, mode: 'aes' }), (e) => e.rule === 'security_mode' && e.path === 'mode');
  // `now` is in milliseconds, as every time in JS: 5 s after the signed timestamp passes, an
  // hour after is refused.
  assert.equal(wx.openCallback({ token, query, body: EVENT, now: 1700000000 * 1000 + 5000 }).mode, 'plain');
  assert.throws(() => wx.openCallback({ token, query, body: EVENT, now: (1700000000 + 3600) * 1000 }), (e) => e.rule === 'timestamp_skew');
});

test('parseEvent: MASSSENDJOBFINISH with copyright check, article URLs, the audit reason and a 64-bit MsgID as a string', () => {
  const e = wx.parseEvent(EVENT);
  assert.equal(e.kind, 'mass_send_job_finish');
  assert.equal(e.msgId, '1000001625');
  assert.equal(e.toUser, 'gh_4d00ed8d6399');
  assert.equal(e.createTime, 1481013459);
  assert.equal(e.status.kind, 'rejected');
  assert.equal(e.status.code, 30003);
  assert.ok(e.status.zh && e.status.en);
  assert.equal(e.copyrightCheck.count, 2);
  assert.equal(e.copyrightCheck.checkState, 2);
  assert.deepEqual(e.copyrightCheck.items.map((i) => [i.articleIdx, i.auditState, i.originalArticleUrl]), [[1, 2, 'Url_1'], [2, 2, 'Url_2']]);
  assert.deepEqual(e.articleUrls, [{ idx: 1, url: 'Url' }]);
  assert.equal(e.dedupeKey, 'mass:1000001625:err(30003)');
  const big = wx.parseEvent(new TextEncoder().encode(EVENT.replace('1000001625', '18446744073709551615').replace('err(30003)', 'send success')));
  assert.equal(big.msgId, '18446744073709551615');
  assert.equal(big.status.kind, 'success');
  const other = wx.parseEvent('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>');
  assert.equal(other.kind, 'other');
  assert.equal(other.event, 'subscribe');
});

test('parseEvent errors name the element and the rule', () => {
  const bad = (xml) => {
    try {
      wx.parseEvent(xml);
    } catch (e) {
      assert.ok(e instanceof wx.WxmassError);
      assert.equal(e.code, 'event');
      return [e.rule, e.path];
    }
    assert.fail('did not throw');
  };
  assert.deepEqual(bad(EVENT.replace('<MsgID>1000001625</MsgID>', '')), ['missing_element', 'MsgID']);
  assert.deepEqual(bad(EVENT.replace('<SentCount>0</SentCount>', '<SentCount>many</SentCount>')), ['invalid_number', 'SentCount']);
  assert.equal(bad('<!DOCTYPE x [<!ENTITY a "b">]><xml/>')[0], 'xml_doctype');
  assert.equal(bad('<html></html>')[0], 'xml_root');
  assert.equal(bad('<xml><a>')[0], 'xml_malformed');
});
