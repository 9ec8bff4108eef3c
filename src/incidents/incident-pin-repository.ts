import type { Store } from '../platform/store/store.js';

/** A message someone added to an incident's timeline. */
export interface IncidentPin {
  incident_id: number;
  message_ts: string;
  author: string | null;
  author_name: string | null;
  text: string;
  written_at: string;
  pinned_by: string;
  pinned_at: string;
  via: 'reaction' | 'shortcut';
}

/** Messages added to incident timelines (📌 or the message shortcut), each once. */
export class IncidentPinRepository {
  constructor(private readonly store: Store) {}

  /** Adds a message to the incident's timeline; false when it is already there (a second 📌, the shortcut after the reaction). */
  async add(pin: IncidentPin): Promise<boolean> {
    const row = await this.store.get<{ message_ts: string }>(
      `INSERT INTO incident_pin (incident_id, message_ts, author, author_name, text, written_at, pinned_by, pinned_at, via)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING message_ts`,
      pin.incident_id,
      pin.message_ts,
      pin.author,
      pin.author_name,
      pin.text,
      pin.written_at,
      pin.pinned_by,
      pin.pinned_at,
      pin.via,
    );
    return row !== undefined;
  }

  /** The incident's pinned messages, in the order they were written. */
  async pins(incidentId: number): Promise<IncidentPin[]> {
    return this.store.all<IncidentPin>('SELECT * FROM incident_pin WHERE incident_id = ? ORDER BY written_at, message_ts', incidentId);
  }
}
