/**
 * Command-line flags of the scripts: `--value-bytes 100` sets `valueBytes`. Every flag must be one of
 * `defaults`, and a flag whose default is a number must be given a number.
 */
function parseFlags(argv, defaults) {
  const args = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in defaults) || !argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]} (known: ${Object.keys(defaults).join(', ')})`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${argv[i]} needs a value`);
    if (typeof defaults[key] === 'number') {
      if (!Number.isFinite(Number(value))) throw new Error(`${argv[i]} takes a number, not ${value}`);
      args[key] = Number(value);
    } else {
      args[key] = value;
    }
  }
  return args;
}

module.exports = { parseFlags };
