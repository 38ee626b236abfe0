export { Dispatcher, permissionDenied, roleAccess } from './dispatcher.js';
export type { AccessControl, CallEvent, DispatcherOptions } from './dispatcher.js';
export { MethodRegistry, answerableErrors, callErrors, defineMethod } from './registry.js';
export type {
  CallContext,
  DeclaredErrors,
  Handler,
  MethodExample,
  MethodContract,
  Params,
  Principal,
  Result,
  RegisteredMethod,
  RpcSession,
} from './registry.js';
export { ROLES, isRole, roleSatisfies } from './roles.js';
export type { Access, Role } from './roles.js';
export { checkEnvelope, encodeNotification, failure, success } from './protocol.js';
export type { JsonRpcErrorObject, JsonRpcId, JsonRpcRequest, JsonRpcResponse } from './protocol.js';
export { bytes, count, deviceParam, seconds, timestamp } from './fields.js';
