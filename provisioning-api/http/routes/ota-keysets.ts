/** POST /v1/sims/{iccid}/ota-keysets/rotate: replace an OTA keyset of the card by PUT KEY (services/keyset-rotation.ts). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OPERATOR_STAFF } from '../../domain/roles.js';
import type { Services } from '../../services/context.js';
import { requestKeysetRotation, ROTATABLE_STATES } from '../../services/keyset-rotation.js';
import { principalOf } from '../plugins/auth.js';
import { presentJob } from '../present.js';
import { errorResponses, Iccid } from '../schemas/common.js';

export const otaKeysetRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post('/v1/sims/:iccid/ota-keysets/rotate', {
    config: { roles: OPERATOR_STAFF, operatorOnly: true },
    schema: {
      tags: ['sims'],
      summary: 'Rotate an OTA keyset of the card: PUT KEY with fresh keys, switched in the database once the card proves it took them',
      description:
        'Roles: operator-admin, carrier-ops. Answers 202 with the job (kind `sim.rotate-keyset`) that carries it out; its `result` shows the ' +
        'rotation\'s progress and the OTA messages it sent (see GET /v1/sims/{iccid}/ota-commands). Fresh KIc, KID and KIk of the same ' +
        'algorithms and lengths go to the card encrypted under the current KIk, in a packet secured with the current keyset. The database ' +
        'switches to them when the PoR of PUT KEY is OK with SW 9000; a PoR error or another SW leaves everything as it was. When the PoR is ' +
        'lost, GET STATUS secured with the new keys, then with the old, finds out which keyset the card holds (a few rounds with backoff; ' +
        'after the last one the old keyset stays and the job fails with PROBE_EXHAUSTED). The next rotation of a keyset left so recovers it ' +
        'first: it probes with the keys of the exhausted rotation, then with the stored ones; the first switches the SIM to the keys the card ' +
        'holds, the second goes on to a fresh PUT KEY (`result.recovers` names the exhausted rotation). ' +
        `The SIM must be ${ROTATABLE_STATES.join(', ')} with ` +
        'no pending action (409 ILLEGAL_TRANSITION / ACTION_PENDING); one rotation at a time per SIM (409 ROTATION_OPEN). ' +
        '`keysetIndex` defaults to the SIM\'s lowest. Keys are never returned.',
      params: Type.Object({ iccid: Iccid }),
      body: Type.Object({
        keysetIndex: Type.Optional(Type.Integer({ minimum: 1, maximum: 15, description: 'Key index of the keyset to replace' })),
      }, { additionalProperties: false, description: 'Optional: a request without a body rotates the lowest keyset' }),
      response: { 202: Type.Ref('Job'), ...errorResponses(404, 409, 422) },
    },
    // The body is optional: no body (and no content type) is an empty object.
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    },
  }, async (request, reply) => {
    const body = request.body;
    const job = await requestKeysetRotation(services, principalOf(request), request.params.iccid, body.keysetIndex === undefined ? {} : { keysetIndex: body.keysetIndex });
    return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(presentJob(job));
  });
};
