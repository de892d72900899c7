import { notificationMessageId } from '../../activities/bulk-update/notify';

// One email per operation: every attempt sends the same Message-ID, so mail clients fold the one duplicate a crash
// between "250 OK" and the "sent" record can cause.

describe('notificationMessageId', () => {
  const id = 'attribute_update_2_1712345678_a1b2c3d4';

  it('is derived from the operation id and the instance host name only', () => {
    expect(notificationMessageId(id, 'https://gitlab.example.test')).toBe(`<bulk-operation.${id}@gitlab.example.test>`);
    expect(notificationMessageId(id, 'https://user:pw@gitlab.example.test:8443/sub/')).toBe(
      `<bulk-operation.${id}@gitlab.example.test>`,
    );
    expect(notificationMessageId(id, 'http://127.0.0.1:3000')).toBe(`<bulk-operation.${id}@127.0.0.1>`);
  });

  it('is the same on every attempt and differs between operations', () => {
    const other = 'attribute_update_2_1712345678_ffffffff';
    expect(notificationMessageId(id, 'https://gitlab.example.test')).toBe(
      notificationMessageId(id, 'https://gitlab.example.test'),
    );
    expect(notificationMessageId(other, 'https://gitlab.example.test')).not.toBe(
      notificationMessageId(id, 'https://gitlab.example.test'),
    );
  });

  it('falls back to gitlab.local for a URL without a host, and refuses what is not a URL', () => {
    expect(notificationMessageId(id, 'file:///srv/gitlab')).toBe(`<bulk-operation.${id}@gitlab.local>`);
    expect(() => notificationMessageId(id, 'not a url')).toThrow('Invalid URL');
  });
});
