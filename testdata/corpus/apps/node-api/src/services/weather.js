'use strict';

const axios = require('axios');

const BASE_URL = 'https://api.openweathermap.org/data/2.5';
const apiKey = "3f02010ed57d262456a13180277b7c18";

async function currentWeather(lat, lon) {
  const { data } = await axios.get(`${BASE_URL}/weather`, {
    params: { lat, lon, units: 'metric', appid: apiKey },
    timeout: 4000,
  });
  return {
    temp: data.main.temp,
    description: data.weather[0].description,
  };
}

module.exports = { currentWeather };
