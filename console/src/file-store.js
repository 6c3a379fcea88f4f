// The draft's OpenID file in IndexedDB, one record per official account: a million lines is tens
// of MB, past localStorage's few MB. Used by the OpenID worker (which reads and keeps the file,
// so the page's main thread never clones a million strings) and by the page to drop a draft.

function idb(mode, action) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('wxmass-console', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('files');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('files', mode);
      const request = action(tx.objectStore('files'));
      tx.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      tx.onerror = () => {
        db.close();
        reject(tx.error);
      };
    };
  });
}

/** Keeps the file read for the account's draft: `{ name, lines, entries, lineNos }`. */
export const saveFile = (file, account) =>
  idb('readwrite', (store) => store.put({ name: file.name, lines: file.lines, entries: file.entries, lineNos: file.lineNos }, account));

/** The file kept for the account's draft, or undefined. */
export const loadFile = (account) => idb('readonly', (store) => store.get(account));

export const deleteFile = (account) => idb('readwrite', (store) => store.delete(account));
