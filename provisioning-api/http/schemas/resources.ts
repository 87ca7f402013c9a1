/** The API's resources. */
import { Type, type Static } from '@fastify/type-provider-typebox';
import { JOB_KINDS, JOB_STATES } from '../../domain/jobs.js';
import { ROLES, TENANT_KINDS } from '../../domain/roles.js';
import { REQUESTABLE_ACTIONS, SIM_STATES } from '../../domain/sim-lifecycle.js';
import { Iccid, NullableTimestamp, Timestamp, Uuid } from './common.js';


export const Role = Type.Enum(ROLES);
export const SimState = Type.Enum(SIM_STATES);

export const Tenant = Type.Object(
  { id: Uuid, name: Type.String(), kind: Type.Enum(TENANT_KINDS), createdAt: Timestamp },
  { $id: 'Tenant', title: 'Tenant' },
);

export const ApiKey = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    role: Role,
    name: Type.String(),
    prefix: Type.String({ description: 'Public part of the key, as shown in listings' }),
    createdAt: Timestamp,
    revokedAt: NullableTimestamp,
    lastUsedAt: NullableTimestamp,
  },
  { $id: 'ApiKey', title: 'ApiKey' },
);

export const CreatedApiKey = Type.Object(
  {
    key: Type.Ref('ApiKey'),
    token: Type.String({ description: 'The secret: shown this once, stored only as a hash. Send as `Authorization: Bearer <token>`.' }),
  },
  { $id: 'CreatedApiKey', title: 'CreatedApiKey' },
);

export const Sim = Type.Object(
  {
    iccid: Iccid,
    imsi: Type.String(),
    msisdn: Type.String({ description: 'E.164 with +' }),
    tar: Type.String({ description: 'The simchain applet\'s TAR, hex' }),
    tenantId: Uuid,
    state: SimState,
    pendingAction: Type.Union([
      Type.Object({ action: Type.Enum(REQUESTABLE_ACTIONS), jobId: Uuid }),
      Type.Null(),
    ], { description: 'A requested change still being carried out (the transitional state)' }),
    importId: Uuid,
    attestationSerial: Type.Union([Type.String(), Type.Null()]),
    stateChangedAt: Timestamp,
    createdAt: Timestamp,
  },
  { $id: 'Sim', title: 'Sim' },
);
export type SimBody = Static<typeof Sim>;

export const InventoryProblem = Type.Object(
  { line: Type.Integer(), column: Type.Optional(Type.String()), code: Type.String(), message: Type.String() },
  { $id: 'InventoryProblem', title: 'InventoryProblem' },
);

export const SimImport = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    state: Type.Enum(['staged', 'loading', 'completed', 'rejected']),
    fileName: Type.Union([Type.String(), Type.Null()]),
    format: Type.Enum(['csv', 'out']),
    contentSha256: Type.String({ description: 'SHA-256 of the file, hex: the same file is the same import' }),
    byteCount: Type.Integer(),
    rowCount: Type.Integer(),
    loadedCount: Type.Integer({ description: 'Rows in the inventory so far (progress while loading)' }),
    droppedColumns: Type.Array(Type.String(), { description: 'Secret columns present in the file and dropped unread (KI, OPC...)' }),
    metadata: Type.Record(Type.String(), Type.String(), { description: 'Out-file header entries' }),
    problems: Type.Array(Type.Ref('InventoryProblem')),
    problemCount: Type.Integer(),
    jobId: Type.Union([Uuid, Type.Null()]),
    createdAt: Timestamp,
    startedAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
  },
  { $id: 'SimImport', title: 'SimImport' },
);

export const Job = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    kind: Type.Enum(JOB_KINDS),
    state: Type.Enum(JOB_STATES),
    input: Type.Record(Type.String(), Type.Unknown()),
    result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    attempts: Type.Integer(),
    createdAt: Timestamp,
    startedAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
  },
  { $id: 'Job', title: 'Job' },
);

/** One OTA command to a SIM (Twilio's SmsCommand, extended with TS 102 225 PoR codes). Never its keys or packet bytes. */
export const OtaCommand = Type.Object(
  {
    id: Type.String({ description: 'OTA message id' }),
    iccid: Iccid,
    msisdn: Type.String({ description: 'E.164 with +' }),
    tar: Type.String({ description: 'TAR of the application addressed, hex' }),
    state: Type.Enum(['queued', 'submitted', 'delivered', 'por-received', 'por-error', 'expired', 'failed'], {
      description: 'queued → submitted (every part taken by the SMSC) → delivered (every part\'s receipt) → por-received | por-error; or expired (no PoR in time), failed (refused, undeliverable)',
    }),
    keysetIndex: Type.Integer({ description: 'Key index of the OTA keyset securing it (KIc/KID)' }),
    counter: Type.Integer({ description: 'CNTR (TS 102 225 §5.1.1)' }),
    spi: Type.String({ description: 'SPI, 2 bytes hex (TS 102 225 §5.1.1)' }),
    partCount: Type.Integer({ description: 'SMS the packet travels in (TS 31.115 concatenation)' }),
    deliveredParts: Type.Array(Type.Integer()),
    parts: Type.Array(Type.Object({
      part: Type.Integer({ description: '1-based' }),
      attempt: Type.Integer({ description: 'Submit attempt (a resend after an unknown outcome is a new one)' }),
      smppMessageId: Type.String({ description: 'The SMSC\'s message_id' }),
      submittedAt: Timestamp,
      receipt: Type.Union([
        Type.Object({ stat: Type.String({ description: 'SMPP 3.4 Appendix B: DELIVRD, EXPIRED, UNDELIV, REJECTD...' }), err: Type.Union([Type.String(), Type.Null()]), at: Timestamp }),
        Type.Null(),
      ]),
    })),
    attempts: Type.Integer(),
    por: Type.Union([
      Type.Object({
        status: Type.Integer({ description: 'Response status (TS 102 225 §5.2.2): 0 OK, 1 RC/CC/DS failed, 2 counter low...' }),
        statusName: Type.String({ description: 'ok, rc-cc-ds-failed, counter-low, counter-high, counter-blocked, ciphering-error, ...' }),
        ccValid: Type.Union([Type.Boolean(), Type.Null()], { description: 'The PoR\'s CC verified (false: an unsecured error PoR)' }),
        executed: Type.Union([Type.Integer(), Type.Null()], { description: 'Commands executed (TS 102 226 compact response)' }),
        sw: Type.Union([Type.String(), Type.Null()], { description: 'Status word of the last command, 4 hex digits' }),
        dataLength: Type.Integer({ description: 'Bytes of response data (not returned)' }),
      }),
      Type.Null(),
    ], { description: 'The Proof of Receipt, once one came' }),
    lastError: Type.Union([Type.String(), Type.Null()]),
    jobId: Type.Union([Uuid, Type.Null()]),
    queuedAt: Timestamp,
    submittedAt: NullableTimestamp,
    deliveredAt: NullableTimestamp,
    porAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
    expiresAt: Timestamp,
  },
  { $id: 'OtaCommand', title: 'OtaCommand' },
);

export const SHARED_SCHEMAS = [Tenant, ApiKey, CreatedApiKey, Sim, InventoryProblem, SimImport, Job, OtaCommand];

export function page<T extends ReturnType<typeof Type.Ref>>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}
