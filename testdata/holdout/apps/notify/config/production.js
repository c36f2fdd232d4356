'use strict';

module.exports = {
  port: process.env.PORT || 4000,
  mongo: {
    uri: 'mongodb+srv://notify:mcM*zUafM2v2@cluster0.x7k2p.mongodb.net/notify?retryWrites=true&w=majority',
    poolSize: 20,
  },
  session: {
    name: 'nw.sid',
    secret: '482e76d57986d62e01f95608868adce7fa1140eb88c779e0',
    cookie: { secure: true, httpOnly: true, maxAge: 86400000 },
  },
  twilio: {
    accountSid: 'ACcfa3c6964f78364761ffb7a32e228081',
    authToken: 'e2a33b6e6b6c880517830a4b7d37ed9d',
    from: '+14155550123',
  },
  telegram: {
    botToken: '8270889193:AAz5DTY_5pvvf8dem920Iui_0FyDmQuqfN3',
    chatId: -1001873264519,
  },
};
