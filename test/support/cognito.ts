/**
 * cognito-local (npm), a real Cognito user pool emulator, on its own loopback port: the pool, the
 * app client and the users are made through the AWS SDK, as an administrator would with the CLI
 * (AdminCreateUser with MessageAction SUPPRESS, AdminSetUserPassword permanent).
 *
 * cognito-local keeps its state in ./.cognito of its working directory: each server gets a
 * fresh temporary one, removed on dispose. Its default pools sign in with an email as user name;
 * the config written here makes plain user names the default, as Cognito's own.
 * Where it differs from Cognito (it says InvalidPasswordException for a wrong password and
 * NotAuthorizedException for an unknown user; its user names are case-sensitive) the tests say so.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { freePort } from './ports';
import { ServerProcess } from './server-process';

const START_JS = resolve(__dirname, '../../node_modules/cognito-local/lib/bin/start.js');

/** A pool and its app client (USER_PASSWORD_AUTH, no secret). */
export interface CognitoPool {
  readonly userPoolId: string;
  readonly clientId: string;
}

export class CognitoLocal extends ServerProcess {
  static async start(): Promise<CognitoLocal> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-cognito-'));
    mkdirSync(join(dir, '.cognito'));
    writeFileSync(join(dir, '.cognito', 'config.json'), JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] } }));
    const server = new CognitoLocal(port, dir);
    await server.restart();
    return server;
  }

  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER. */
  readonly endpoint: string;
  private admin?: CognitoIdentityProviderClient;

  private constructor(
    port: number,
    private readonly dir: string,
  ) {
    super(process.execPath, port, [START_JS], { cwd: dir, env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1' } });
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  /** An administrator's client (cognito-local takes any credentials). */
  client(): CognitoIdentityProviderClient {
    return (this.admin ??= new CognitoIdentityProviderClient({
      region: 'local',
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    }));
  }

  /** A new pool with a public app client that allows USER_PASSWORD_AUTH. */
  async createPool(name = 'sessions'): Promise<CognitoPool> {
    const c = this.client();
    const pool = await c.send(new CreateUserPoolCommand({ PoolName: name }));
    const userPoolId = pool.UserPool!.Id!;
    const client = await c.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: `${name}-app`,
        GenerateSecret: false,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        PreventUserExistenceErrors: 'ENABLED',
      }),
    );
    return { userPoolId, clientId: client.UserPoolClient!.ClientId! };
  }

  /**
   * A user as the README makes the first one: AdminCreateUser without an invitation, then a
   * permanent password. Without `password` the user keeps a temporary one and must change it
   * (FORCE_CHANGE_PASSWORD: the login answers NEW_PASSWORD_REQUIRED). Resolves with its `sub`.
   */
  async createUser(pool: CognitoPool, username: string, password: string | undefined, temporaryPassword = 'Temporary-Pass-1'): Promise<string> {
    const c = this.client();
    await c.send(new AdminCreateUserCommand({ UserPoolId: pool.userPoolId, Username: username, MessageAction: 'SUPPRESS', TemporaryPassword: temporaryPassword }));
    if (password !== undefined) await c.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.userPoolId, Username: username, Password: password, Permanent: true }));
    const user = await c.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: username }));
    return user.UserAttributes!.find((a) => a.Name === 'sub')!.Value!;
  }

  /** SESSION_AUTH=cognito settings for the runtime, with the SDK pointed at this server. */
  env(pool: CognitoPool): Record<string, string> {
    return {
      SESSION_AUTH: 'cognito',
      SESSION_COGNITO_USER_POOL_ID: pool.userPoolId,
      SESSION_COGNITO_CLIENT_ID: pool.clientId,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: this.endpoint,
    };
  }

  async dispose(): Promise<void> {
    this.admin?.destroy();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
