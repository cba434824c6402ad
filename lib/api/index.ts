/**
 * The management API's contract, shared by the server in init and the client in cli: the route
 * table and the wire types of every answer. Types and pure helpers only; no effects.
 */
export * from './config.ts';
export * from './containers.ts';
export * from './host.ts';
export * from './images.ts';
export * from './problems.ts';
export * from './routes.ts';
export * from './update.ts';
