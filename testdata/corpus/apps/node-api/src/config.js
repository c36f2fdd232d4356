'use strict';

require('dotenv').config();

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`missing required environment variable ${name}`);
  }
  return value;
}

module.exports = {
  port: Number(process.env.PORT || 3000),
  databaseUrl: required('DATABASE_URL'),
  redisUrl: process.env.REDIS_URL || 'redis://localhost:6379/0',
  jwtSecret: required('JWT_SECRET'),
  apiKey: process.env.API_KEY,
  sendgridApiKey: process.env.SENDGRID_API_KEY || '',
  passwordMinLength: 12,
};
