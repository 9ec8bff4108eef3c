/** What golive knows about one Secrets Manager secret: its metadata, never its value. */
export interface SecretInfo {
  name: string;
  arn?: string;
  createdAt?: string;
  /** When the value (or the metadata) last changed. */
  lastChangedAt?: string;
  lastRotatedAt?: string;
  /** Set when the secret is scheduled for deletion: the date Secrets Manager will delete it. */
  deletedAt?: string;
  /** Whether a version carries the AWSCURRENT label, i.e. the secret has a current value. */
  hasCurrentValue: boolean;
}

/** The Secrets Manager reads evidence checks need. Nothing here can return a secret's value. */
export interface SecretsPort {
  /**
   * The metadata of each named secret that exists in `region` (secrets
   * scheduled for deletion included, with `deletedAt`); a name missing from the
   * map does not exist there.
   */
  describeSecrets(region: string, names: readonly string[]): Promise<Map<string, SecretInfo>>;
}
