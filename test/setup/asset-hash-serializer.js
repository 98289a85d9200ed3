// Snapshot serializer: asset hashes change with every edit of a bundled file or of the
// toolchain, so they are replaced by a marker and snapshots show only real template changes.
const HASH = /[a-f0-9]{64}/g;
module.exports = {
  test: (val) => typeof val === 'string' && /[a-f0-9]{64}/.test(val),
  serialize: (val) => JSON.stringify(val.replace(HASH, '[ASSET-HASH]')),
};
