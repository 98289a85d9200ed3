/**
 * Who may log in, as the constructs set it up: a Cognito user pool and app client (new, or the
 * user's), their ids and SESSION_AUTH=cognito handed to the runtime through the seam, and
 * NODE_ENV=production so that the runtime refuses SESSION_AUTH=open.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { InstanceFleet, SessionApi } from '../../../lib/compute';
import { JwtSessions, RedisSessions, StickySessions } from '../../../lib';
import { parseSessionEnv } from '../../../lambda/session/env';
import { addReferenceStacks } from '../../../bin/nag';
import { agnosticStack, newApp, policyActions, synthTopology, topologyStack } from '../helpers';
import { FakeStore } from './fake-store';

function synthApi(props: { userPool?: (s: ReturnType<typeof agnosticStack>) => cognito.IUserPool; client?: boolean; environment?: Record<string, string> } = {}) {
  const stack = agnosticStack();
  const store = new FakeStore(stack, 'Store', { kind: 'dynamodb' });
  const userPool = props.userPool?.(stack);
  const userPoolClient = props.client && userPool ? cognito.UserPoolClient.fromUserPoolClientId(stack, 'TheirClient', 'theirclient123') : undefined;
  const api = new SessionApi(stack, 'Api', { store, userPool, userPoolClient, environment: props.environment });
  return { stack, api, template: Template.fromStack(stack) };
}

describe('login pool of a compute construct', () => {
  test('SessionApi alone: a new user pool, no self sign-up, case-insensitive names, strong passwords', () => {
    const { template } = synthApi();
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameConfiguration: { CaseSensitive: false },
      MfaConfiguration: 'OFF',
      UserPoolTier: 'ESSENTIALS',
      Policies: {
        PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }),
      },
    });
  });

  test('its app client: USER_PASSWORD_AUTH (and refresh) only, no secret, no OAuth, user existence errors prevented, short-lived tokens', () => {
    const { template } = synthApi();
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: false,
      PreventUserExistenceErrors: 'ENABLED',
      AccessTokenValidity: 5,
      IdTokenValidity: 5,
      RefreshTokenValidity: 60,
    });
  });

  test('the function gets SESSION_AUTH=cognito, the pool and client ids and NODE_ENV=production, and parses as the runtime would', () => {
    const { stack, api, template } = synthApi();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SESSION_AUTH: 'cognito',
          SESSION_COGNITO_USER_POOL_ID: { Ref: Match.stringLikeRegexp('ApiUserPool') },
          SESSION_COGNITO_CLIENT_ID: { Ref: Match.stringLikeRegexp('ApiUserPoolClient') },
          NODE_ENV: 'production',
        }),
      },
    });
    const env = { ...api.environment, SESSION_COGNITO_USER_POOL_ID: 'eu-west-1_Abc123', SESSION_COGNITO_CLIENT_ID: 'client123', SESSION_TABLE: 't' };
    expect(parseSessionEnv(env).auth).toEqual({
      kind: 'cognito',
      defaulted: false,
      required: true,
      timeoutMs: 3000,
      cognito: { userPoolId: 'eu-west-1_Abc123', clientId: 'client123', region: 'eu-west-1' },
    });
    expect(stack.resolve(api.environment.SESSION_COGNITO_USER_POOL_ID)).toEqual(stack.resolve(api.userPool.userPoolId));
  });

  test('InitiateAuth is an unauthenticated API: the function gets no cognito-idp permission at all', () => {
    expect(policyActions(synthApi().template).filter((a) => a.startsWith('cognito'))).toEqual([]);
  });

  test('`environment` cannot switch the login to open or leave production', () => {
    const { api } = synthApi({ environment: { SESSION_AUTH: 'open', NODE_ENV: 'development' } });
    expect(api.environment.SESSION_AUTH).toBe('cognito');
    expect(api.environment.NODE_ENV).toBe('production');
  });

  test("the user's pool: no new pool, a new client on it; with their client too: nothing new, their ids", () => {
    const theirs = (s: ReturnType<typeof agnosticStack>) => cognito.UserPool.fromUserPoolId(s, 'TheirPool', 'eu-west-1_Theirs1');
    const one = synthApi({ userPool: theirs });
    one.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    one.template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    one.template.hasResourceProperties('AWS::Cognito::UserPoolClient', { UserPoolId: 'eu-west-1_Theirs1' });
    const both = synthApi({ userPool: theirs, client: true });
    both.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    both.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    expect(both.api.environment).toMatchObject({ SESSION_COGNITO_USER_POOL_ID: 'eu-west-1_Theirs1', SESSION_COGNITO_CLIENT_ID: 'theirclient123' });
  });

  test('userPoolClient without userPool is refused, with the construct named', () => {
    const stack = agnosticStack();
    const userPoolClient = cognito.UserPoolClient.fromUserPoolClientId(stack, 'C', 'c123');
    expect(() => new SessionApi(stack, 'Api', { store: new FakeStore(stack, 'Store'), userPoolClient })).toThrow(/SessionApi[\s\S]*userPoolClient needs userPool/);
    expect(() => new InstanceFleet(stack, 'Fleet', { userPoolClient })).toThrow(/Test\/Fleet[\s\S]*userPoolClient needs userPool/);
    expect(() => new RedisSessions(topologyStack(), 'S', { userPoolClient: cognito.UserPoolClient.fromUserPoolClientId(stack, 'C2', 'c') })).toThrow(
      /Test\/S:[\s\S]*userPoolClient needs userPool/,
    );
  });

  test('InstanceFleet alone: its instances get SESSION_AUTH=cognito and the ids of its own new pool', () => {
    const stack = agnosticStack();
    const fleet = new InstanceFleet(stack, 'Fleet');
    expect(fleet.environment).toMatchObject({ SESSION_AUTH: 'cognito', NODE_ENV: 'production' });
    expect(stack.resolve(fleet.environment.SESSION_COGNITO_CLIENT_ID)).toEqual(stack.resolve(fleet.userPoolClient.userPoolClientId));
    Template.fromStack(stack).resourceCountIs('AWS::Cognito::UserPool', 1);
  });
});

describe('login pool of a topology', () => {
  test('RedisSessions: one pool and one client, shared by the fleet and the API (same user, same password either way in)', () => {
    const { stack, topology, template } = synthTopology((s) => new RedisSessions(s, 'Sessions'));
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    const ids = (env: Readonly<Record<string, string>>) => stack.resolve([env.SESSION_AUTH, env.SESSION_COGNITO_USER_POOL_ID, env.SESSION_COGNITO_CLIENT_ID]);
    expect(ids(topology.fleet.environment)).toEqual(ids(topology.api.environment));
    expect(topology.fleet.userPool).toBe(topology.userPool);
    expect(topology.api.userPoolClient).toBe(topology.userPoolClient);
  });

  test('JwtSessions and StickySessions take a given pool and client as they are', () => {
    const stack = topologyStack();
    const userPool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_Given1');
    const userPoolClient = cognito.UserPoolClient.fromUserPoolClientId(stack, 'Client', 'given123');
    const jwt = new JwtSessions(stack, 'Jwt', { userPool, userPoolClient });
    const sticky = new StickySessions(stack, 'Sticky', { userPool, userPoolClient });
    expect(jwt.api.environment).toMatchObject({ SESSION_AUTH: 'cognito', SESSION_COGNITO_USER_POOL_ID: 'eu-west-1_Given1', SESSION_COGNITO_CLIENT_ID: 'given123' });
    expect(sticky.fleet.environment).toMatchObject({ SESSION_COGNITO_USER_POOL_ID: 'eu-west-1_Given1', SESSION_COGNITO_CLIENT_ID: 'given123' });
    Template.fromStack(stack).resourceCountIs('AWS::Cognito::UserPool', 0);
  });
});

describe('reference stacks', () => {
  test('every stack outputs its UserPoolId and ClientId (what the README needs to create the first user)', () => {
    const app = newApp({ flags: true });
    const stacks = addReferenceStacks(app);
    for (const stack of Object.values(stacks)) {
      const outputs = Template.fromStack(stack).findOutputs('*');
      expect(outputs.UserPoolId?.Value).toEqual({ Ref: expect.stringMatching(/UserPool/) });
      expect(outputs.ClientId?.Value).toEqual({ Ref: expect.stringMatching(/UserPoolClient/) });
    }
  });
});
