// Loaded first so the Reflect metadata API exists before tsyringe loads and before any class decorated
// with decorators imported from here is defined. See README "reflect-metadata".
import 'reflect-metadata';

export type { Closeable, ConfigSource, EventSink, Logger } from '@app/core';
export { delay, inject, injectAll, injectable, injectWithTransform } from 'tsyringe';
export { CONFIG_SOURCE, createContainer } from './container.js';
export type { DiErrorOptions } from './errors.js';
export { DiError, DiErrorCode, isDiError } from './errors.js';
export { currentScope, runInScope } from './scope-context.js';
export type { AbstractConstructor, Constructor, InjectionToken, Token, TokenType } from './token.js';
export { createToken, tokenName } from './token.js';
export type {
  AsyncFactoryProvider,
  ClassProvider,
  ConfigFactoryProvider,
  Container,
  ContainerOptions,
  DisposeHook,
  FactoryProvider,
  Lifetime,
  Provider,
  Resolver,
  ValueProvider,
} from './types.js';
