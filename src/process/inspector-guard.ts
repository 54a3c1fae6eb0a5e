/**
 * Imported first by the CLI entry point, so this runs before any other module of the project is even loaded:
 * without a SIGUSR1 listener, Node opens its inspector (a debugger on 127.0.0.1:9229 that can drive the
 * relay) on SIGUSR1. What remains is Node's own bootstrap before the first line of JavaScript; the launcher
 * (bin/facegate, which the unit and `npm start` use) closes that too with an inspector address nothing can
 * bind (not --disable-sigusr1, which also keeps SIGUSR1 from this listener). The daemon's lifecycle later turns
 * SIGUSR1 into a press; every other command keeps ignoring it.
 */
process.on('SIGUSR1', () => undefined);
export {};
