/**
 * The card vendor's CA certificate of an import: the trust anchor that a key generated on
 * one of its cards is checked against (the card's attestation certificate must be issued by
 * it). Configured per import, as each delivery of cards may come from another vendor or CA.
 */
import { X509Certificate } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getSimImport, getVendorCa, setVendorCa } from '../../db/repositories/sim-imports.js';
import { ApiError } from '../../domain/errors.js';
import { canAccessTenant, OPERATOR_READERS, OPERATOR_STAFF } from '../../domain/roles.js';
import type { Services } from '../../services/context.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, Uuid } from '../schemas/common.js';

const VendorCa = Type.Object(
  {
    importId: Uuid,
    subject: Type.String(),
    serialNumber: Type.String(),
    validFrom: Type.String(),
    validTo: Type.String(),
    fingerprint256: Type.String({ description: 'SHA-256 fingerprint of the DER certificate' }),
  },
  { $id: 'VendorCa', title: 'VendorCa' },
);

function describe(importId: string, der: Buffer) {
  const c = new X509Certificate(der);
  return { importId, subject: c.subject.replace(/\n/g, ', '), serialNumber: c.serialNumber.toLowerCase(), validFrom: c.validFrom, validTo: c.validTo, fingerprint256: c.fingerprint256 };
}

/** The DER of a PEM CA certificate, or VENDOR_CA_INVALID. */
export function parseVendorCaPem(pem: string): Buffer {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new ApiError('VENDOR_CA_INVALID', 'the certificate is not a PEM X.509 certificate');
  }
  if (!cert.ca) throw new ApiError('VENDOR_CA_INVALID', 'the certificate is not a CA certificate (basicConstraints cA is not set)');
  return Buffer.from(cert.raw);
}

export const vendorCaRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;
  app.addSchema(VendorCa);

  app.put('/v1/sim-imports/:importId/vendor-ca', {
    config: { roles: OPERATOR_STAFF, operatorOnly: true },
    schema: {
      tags: ['sim-imports'],
      summary: "Configure the card vendor's CA certificate for an import",
      description:
        'Roles: operator-admin, carrier-ops. The PEM certificate of the CA that issued the attestation certificates of this import\'s cards; ' +
        'a key generated on a card is accepted only when its attestation verifies up to it. Replaces any earlier one.',
      params: Type.Object({ importId: Uuid }),
      body: Type.Object({ certificate: Type.String({ maxLength: 16_384, description: 'PEM' }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('VendorCa'), ...errorResponses(404, 422) },
    },
  }, async (request) => {
    const imported = await getSimImport(pool, request.params.importId);
    if (!imported || !canAccessTenant(principalOf(request), imported.tenantId)) throw new ApiError('IMPORT_NOT_FOUND', `no import ${request.params.importId}`);
    const der = parseVendorCaPem(request.body.certificate);
    await setVendorCa(pool, imported.id, der);
    return describe(imported.id, der);
  });

  app.get('/v1/sim-imports/:importId/vendor-ca', {
    config: { roles: OPERATOR_READERS, operatorOnly: true },
    schema: {
      tags: ['sim-imports'],
      summary: "The card vendor's CA certificate configured for an import",
      description: 'Roles: operator-admin, carrier-ops, auditor (operator). 409 VENDOR_CA_MISSING when none is configured.',
      params: Type.Object({ importId: Uuid }),
      response: { 200: Type.Ref('VendorCa'), ...errorResponses(404, 409) },
    },
  }, async (request) => {
    const imported = await getSimImport(pool, request.params.importId);
    if (!imported || !canAccessTenant(principalOf(request), imported.tenantId)) throw new ApiError('IMPORT_NOT_FOUND', `no import ${request.params.importId}`);
    const der = await getVendorCa(pool, imported.id);
    if (!der) throw new ApiError('VENDOR_CA_MISSING', `import ${imported.id} has no vendor CA certificate`);
    return describe(imported.id, der);
  });
};
