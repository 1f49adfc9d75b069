export {
  type JwtClient,
  type RegisteredClient,
  type SecretAuthMethod,
  type SecretClient,
  startTokenServer,
  type TokenRequestRecord,
  type TokenServer,
  type TokenServerOptions,
} from './token-server.ts';
