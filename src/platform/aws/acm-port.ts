/** One certificate as ListCertificates summarises it. */
export interface CertificateSummary {
  arn: string;
  domain: string;
  status: string;
  /** The alternative names the summary lists (not every implementation fills them). */
  names: string[];
  /** ACM lists only some names in a summary; true when there are more. */
  moreNames: boolean;
}

/** One certificate as DescribeCertificate tells it. */
export interface CertificateDetail {
  arn: string;
  domain: string;
  /** Every name it covers, the domain included. */
  names: string[];
  /** ISSUED, PENDING_VALIDATION, EXPIRED, INACTIVE, REVOKED, FAILED, VALIDATION_TIMED_OUT. */
  status: string;
  notBefore?: string;
  notAfter?: string;
  /** AMAZON_ISSUED, IMPORTED, PRIVATE. */
  type?: string;
  /** How many AWS resources use it (load balancers, CloudFront). */
  inUseBy: number;
}

/** The ACM reads evidence checks need. */
export interface AcmPort {
  /** Every certificate in the region, of every status and key type, all pages. */
  listCertificates(region: string): Promise<CertificateSummary[]>;
  describeCertificate(region: string, arn: string): Promise<CertificateDetail>;
}
