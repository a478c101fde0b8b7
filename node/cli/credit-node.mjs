#!/usr/bin/env node
// The `credit-node` command. Plain JavaScript, so that a Node.js too old to run TypeScript reaches
// this check and says what to do, instead of failing on the `.ts` extension of main.ts.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `credit-node needs Node.js >= 22.18, and this is ${process.version} (${process.execPath}).\n` +
      'Run it through npm in the project folder, which uses the Node 24 that `npm install` puts in\n' +
      'node_modules/.bin: `npm install` once, then `npm start` or `npx credit-node <command>`.\n' +
      'Or install Node.js 24.',
  );
  process.exit(1);
}
await import('./main.ts');
