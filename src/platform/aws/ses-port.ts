/** An SES account's sending status in one region. */
export interface SesAccount {
  /** false: the account is in the SES sandbox (mail only to verified addresses). */
  productionAccess: boolean;
  sendingEnabled: boolean;
  /** HEALTHY, PROBATION or SHUTDOWN. */
  enforcementStatus?: string;
  max24HourSend?: number;
  /** The production access request's review status, when there is one (PENDING, GRANTED, DENIED, FAILED). */
  reviewStatus?: string;
}

/** A plain-text email. */
export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** Amazon SES v2, for the SES production-access check and for sending escalation email. */
export interface SesPort {
  getAccount(region: string): Promise<SesAccount>;
  /** Sends one email; resolves with SES's message id. */
  sendEmail(region: string, message: EmailMessage): Promise<{ messageId: string }>;
}
