export * from './config';
export * from './logger';
export * from './http';
export * from './lifecycle';
export * from './HttpJsonClient';
