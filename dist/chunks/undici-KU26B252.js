#!/usr/bin/env node
import * as __gantryModule from 'node:module'; if (Number(process.versions.node.split('.')[0]) < 22) { process.stderr.write('gantry: needs Node.js 22 or newer; this is ' + process.version + '\n'); process.exit(3); } const require = __gantryModule.createRequire(import.meta.url); __gantryModule.enableCompileCache?.();
import{a}from"./chunk-R2Y5QWPU.js";import"./chunk-ARJ4FZ6M.js";export default a();
