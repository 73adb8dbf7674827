/**
 * Names and numbers for the fleet's calls. Display names include what real directories hold and servers
 * must survive: spaces, non-ASCII, quotes, `&`, and a little markup.
 */
export const DISPLAY_NAMES: readonly string[] = [
  'Anna Schmidt', 'Jörg Müller', 'José García', 'Zoë O\'Brien', 'Li Wei', 'Søren Ærø', 'Ana Luísa', 'Marie-Claire Dubois',
  'Reception', 'Front Desk', 'Conference Room 2', 'Dr. Ngozi Okafor', 'Παναγιώτης', 'Иван Петров', '山田太郎', 'Acme & Sons',
  'Sales "Team"', '<b>Mallory</b>', 'Ola Nordmann', 'Fatima Zahra', 'Kim Min-jun', 'Ahmed Hassan', 'Priya Sharma', '',
];

export const EXTERNAL_PREFIXES: readonly string[] = ['+4930', '+33142', '+1212', '+4420', '0049', '0800'];
