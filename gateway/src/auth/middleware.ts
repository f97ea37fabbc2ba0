import type { NextFunction, Request, Response } from 'express';
import { HttpProblem } from '../rest/problem';
import type { ApiKeyStore, Principal, Role } from './apiKeys';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Reads `Authorization: Bearer <key>` (or `X-API-Key: <key>`). */
export function presentedKey(req: Request): string | undefined {
  const auth = req.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  return req.get('x-api-key') ?? undefined;
}

export function authenticate(store: ApiKeyStore) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const auth = req.get('authorization');
    if (auth && !/^Bearer\s+\S+\s*$/i.test(auth)) {
      return next(unauthenticated('the Authorization header must be "Bearer <api key>"'));
    }
    const key = presentedKey(req);
    if (!key) return next(unauthenticated('no credentials: send your API key as "Authorization: Bearer <api key>"'));
    const principal = store.lookup(key);
    if (!principal) return next(unauthenticated('the API key is unknown or has been revoked'));
    req.principal = principal;
    next();
  };
}

function unauthenticated(detail: string): HttpProblem {
  return new HttpProblem(401, 'unauthenticated', 'Authentication required', detail, {}, { 'WWW-Authenticate': 'Bearer realm="gridledger"' });
}

/** 403 unless the principal has one of the roles. */
export function checkRoles(p: Principal, allowed: readonly Role[]): void {
  if (!allowed.some((r) => p.roles.includes(r))) {
    throw new HttpProblem(
      403,
      'forbidden-role',
      'Not allowed for this API key',
      `this endpoint is for ${allowed.join(' or ')} keys; API key ${p.keyId} has role(s) ${p.roles.join(', ')}`,
      { requiredRoles: allowed },
    );
  }
}

/** 403 unless the principal is a meter key for exactly this meter. */
export function checkMeter(p: Principal, meterId: string): void {
  checkRoles(p, ['meter']);
  if (!p.meters.includes(meterId)) {
    throw new HttpProblem(
      403,
      'forbidden-meter',
      'Not your meter',
      `API key ${p.keyId} may act only for meter(s) ${p.meters.join(', ')}, not for meter ${meterId}`,
      { meterId },
    );
  }
}
