/** A Route 53 hosted zone. */
export interface HostedZone {
  /** The zone id without the `/hostedzone/` prefix, e.g. `Z0123456789ABC`. */
  id: string;
  /** Fully qualified, with the trailing dot: `govisax.com.`. */
  name: string;
  private: boolean;
  recordCount?: number;
}

/** One record set of a zone. */
export interface RecordSet {
  /** Fully qualified, with the trailing dot. */
  name: string;
  type: string;
  /** The record values (empty for an alias). */
  values: string[];
  /** The alias target's DNS name, for an alias record. */
  alias?: string;
}

/** The Route 53 reads evidence checks need (Route 53 is global: no region). */
export interface Route53Port {
  /** The hosted zones named exactly `name` (public and private). */
  zonesNamed(name: string): Promise<HostedZone[]>;
  /** The record set of that name and type in the zone, if there is one. */
  recordSet(zoneId: string, name: string, type: string): Promise<RecordSet | undefined>;
}
