/**
 * What a handset's modem does with an SMS for its card (TS 23.040, TS 31.111): the SMSC's
 * deliver_sm becomes an SMS-DELIVER TPDU with the SMSC's timestamp, handed to the card in an
 * ENVELOPE (SMS-PP download), and the SMS-SUBMITs the card asks for (its PoR) come back to be
 * sent as submit_sm towards the SMSC.
 */
import {
  decodeSmsSubmit,
  encodeSmsDeliver,
  NPI_VALUES,
  sctsFromDate,
  smsPpDownload,
  TON_VALUES,
  type Address,
  type Npi,
  type Ton,
  type Uicc,
} from '../../sim-applet/index.js';
import type smppTypes from 'smpp';

const TON_NAMES = new Map(Object.entries(TON_VALUES).map(([k, v]) => [v as number, k as Ton]));
const NPI_NAMES = new Map(Object.entries(NPI_VALUES).map(([k, v]) => [v as number, k as Npi]));

export interface MoSms {
  /** TP-DA digits. */
  destination: string;
  ton: number;
  npi: number;
  pid: number;
  dcs: number;
  udhi: boolean;
  userData: Uint8Array;
}

function address(ton: number, npi: number, digits: string): Address {
  return { ton: TON_NAMES.get(ton) ?? 'unknown', npi: NPI_NAMES.get(npi) ?? 'unknown', digits };
}

/** Deliver one MT to the card; the MO it answers with. */
export function deliverToCard(card: Uicc, pdu: smppTypes.PDU, userData: Uint8Array, at: Date): MoSms[] {
  const tpdu = encodeSmsDeliver({
    oa: address(pdu.source_addr_ton ?? 0, pdu.source_addr_npi ?? 0, String(pdu.source_addr ?? '')),
    pid: pdu.protocol_id ?? 0,
    dcs: pdu.data_coding ?? 0,
    scts: sctsFromDate(at),
    ud: userData,
    // SMPP 3.4 §5.2.12: esm_class bit 6 is TP-UDHI.
    udhi: ((pdu.esm_class ?? 0) & 0x40) !== 0,
  });
  const { submits } = smsPpDownload((c) => card.transmit(c), tpdu);
  return submits.map((s) => {
    const sms = decodeSmsSubmit(s);
    return {
      destination: sms.da.digits,
      ton: TON_VALUES[sms.da.ton],
      npi: NPI_VALUES[sms.da.npi],
      pid: sms.pid,
      dcs: sms.dcs,
      udhi: sms.udhi,
      userData: Uint8Array.from(sms.ud),
    };
  });
}
