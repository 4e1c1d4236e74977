#!/usr/bin/env node
import * as __gantryModule from 'node:module'; if (Number(process.versions.node.split('.')[0]) < 22) { process.stderr.write('gantry: needs Node.js 22 or newer; this is ' + process.version + '\n'); process.exit(3); } const require = __gantryModule.createRequire(import.meta.url); __gantryModule.enableCompileCache?.();
import{a as o}from"./chunk-HELDKQS4.js";import{realpathSync as n}from"node:fs";import{pathToFileURL as s}from"node:url";function f(r){let t=process.argv[1];if(!t)return!1;try{return r===s(n(t)).href}catch{return!1}}function i(r,t=process.env){let e=t.STATE_isPost==="true"?", post step":"";return`${r} ${o} (node ${process.version}${e})`}function u(r){process.stdout.write(`${i(r)}
`)}export{f as a,u as b};
