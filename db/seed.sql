-- Sample café data: 9 suppliers (one with no beans yet) and 16 beans. Some names need escaping in
-- HTML (&, <, quotes) and some are not ASCII, as real supplier names are.

INSERT INTO suppliers (id, name, address, city, state, email, phone) VALUES
  (1, 'Highland Bean Co.',            '12 Ridge Road',          'Asheville',     'NC', 'orders@highlandbean.example',   '+1 828 555 0101'),
  (2, 'Café Señorita Tostadores',     'Calle del Café 7',       'Medellín',      'Antioquia', 'ventas@senorita.example', '+57 4 555 0102'),
  (3, 'O''Brien & Daughters "Fine" <Roasts>', '3 Harbour Quay', 'Galway',        'Connacht', 'hello@obrien.example', '+353 91 555 0103'),
  (4, 'Kaffeerösterei Müller',        'Bohnenweg 4',            'München',       'Bayern', 'info@mueller-kaffee.example',  '+49 89 555 0104'),
  (5, 'Sumatra Highlands Trading',    'Jl. Kopi No. 5',         'Medan',         'North Sumatra', 'trade@sumatra.example', '+62 61 555 0105'),
  (6, 'Blue Mountain Direct',         '99 Mavis Bank',          'Kingston',      'St Andrew', 'sales@bluemountain.example', '+1 876 555 0106'),
  (7, 'Yirgacheffe Growers Union',    'Kebele 02',              'Yirgachefe',    'SNNPR', 'union@yirga.example',            '+251 46 555 0107'),
  (8, 'Saigon Robusta & Co.',         '88 Lê Lợi',              'Hồ Chí Minh',   'HCMC', 'export@saigonrobusta.example',   '+84 28 555 0108'),
  (9, 'Tiny Batch Roasters',          '1 Alley Lane',           'Portland',      'OR', 'hi@tinybatch.example',             '+1 503 555 0109');

INSERT INTO beans (id, supplier_id, type, product_name, price, description, quantity) VALUES
  ( 1, 1, 'Arabica',  'Ridge Morning Blend',     '18.00', 'Smooth, nutty, low acidity',               420),
  ( 2, 1, 'Robusta',  'Ridge Dark Espresso',     '14.50', 'Bold crema for espresso',                  310),
  ( 3, 2, 'Arabica',  'Señorita Supremo',        '21.00', 'Caramel and red apple',                    180),
  ( 4, 2, 'Arabica',  'Huila Decaf <Swiss Water>', '19.75', 'Decaf by the Swiss Water process',      35),
  ( 5, 3, 'Liberica', 'Harbour "Smoky" Liberica', '24.00', 'Smoky, woody & bold',                     60),
  ( 6, 4, 'Arabica',  'Müller Hausmischung',     '16.90', 'Chocolate and hazelnut',                   540),
  ( 7, 4, 'Excelsa',  'Excelsa Spätlese',        '27.30', 'Tart, fruity, unusual',                     22),
  ( 8, 5, 'Arabica',  'Mandheling Grade 1',      '22.40', 'Earthy, full body',                        275),
  ( 9, 5, 'Robusta',  'Lampung Robusta',         '11.20', 'Strong and bitter, for blends',            800),
  (10, 6, 'Arabica',  'Jamaica Blue Mountain',   '64.00', 'Mild, bright, sweet',                       40),
  (11, 7, 'Arabica',  'Yirgacheffe Kochere',     '23.50', 'Jasmine, lemon, bergamot',                 360),
  (12, 7, 'Arabica',  'Guji Natural',            '25.00', 'Blueberry & dark chocolate',               150),
  (13, 8, 'Robusta',  'Cà Phê Sữa Đá Roast',     '12.80', 'For Vietnamese iced coffee',               620),
  (14, 8, 'Excelsa',  'Tây Nguyên Excelsa',      '17.60', 'Dark fruit, long finish',                   90),
  (15, 8, 'Liberica', 'Mekong Liberica',         '19.20', 'Floral and smoky',                          48),
  (16, 1, 'Arabica',  'Ridge Single Origin',     '20.50', 'Limited lot, 100% Arabica',                130);
