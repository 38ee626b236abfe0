export { Dispatcher, permissionDenied, roleAccess } from './dispatcher.js';
export type { AccessControl, CallEvent, DispatcherOptions } from './dispatcher.js';
export { MethodRegistry, defineMethod } from './registry.js';
export type {
  CallContext,
  Handler,
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
