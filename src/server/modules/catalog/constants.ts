/** Code of the province (the provincial standard implementation lives there). */
export const PROVINCE_CODE = '52';
