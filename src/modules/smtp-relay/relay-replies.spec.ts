import { ownReply } from './relay-replies';

describe('ownReply', () => {
  it('answers a recipient smtp-server cannot parse as §11 answers an invalid address', () => {
    expect(ownReply(501, 'Error: Bad recipient address syntax', 'MAILBOX_SYNTAX_ERROR')).toEqual({
      code: 553,
      text: '5.1.3 Error: Bad recipient address syntax',
    });
  });

  it('gives a SIZE= over the limit the enhanced code of a message too big', () => {
    expect(ownReply(552, 'Error: message exceeds fixed maximum message size 10', 'MESSAGE_TOO_BIG')).toEqual({
      code: 552,
      text: '5.3.4 Error: message exceeds fixed maximum message size 10',
    });
  });

  it('leaves every other reply as smtp-server made it', () => {
    expect(ownReply(501, 'Error: Bad sender address syntax', 'SENDER_SYNTAX_ERROR')).toEqual({
      code: 501,
      text: 'Error: Bad sender address syntax',
    });
    expect(ownReply(250, 'Accepted', undefined)).toEqual({ code: 250, text: 'Accepted' });
  });
});
