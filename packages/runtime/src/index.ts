export * from './config';
export * from './logger';
export * from './http';
export * from './HotRoutes';
export * from './lifecycle';
export * from './HttpJsonClient';
