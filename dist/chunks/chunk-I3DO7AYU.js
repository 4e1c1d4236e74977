#!/usr/bin/env node
import * as __gantryModule from 'node:module'; if (Number(process.versions.node.split('.')[0]) < 22) { process.stderr.write('gantry: needs Node.js 22 or newer; this is ' + process.version + '\n'); process.exit(3); } const require = __gantryModule.createRequire(import.meta.url); __gantryModule.enableCompileCache?.();
import{h as n}from"./chunk-76UOC4ST.js";var s={info:r=>process.stderr.write(`${r}
`),warn:r=>process.stderr.write(`warning: ${r}
`),startGroup:r=>process.stderr.write(`\u25B6 ${r}
`),endGroup:()=>{}},o=s,i=!1;function d(r){o=r}function p(r){i=r}var f={info(r){i||o.info(n(r))},warn(r){o.warn(n(r))},async group(r,t){i||o.startGroup(n(r));let e=performance.now();try{return await t()}finally{i||(o.info(`  (${r}: ${((performance.now()-e)/1e3).toFixed(1)}s)`),o.endGroup())}}};export{d as a,p as b,f as c};
