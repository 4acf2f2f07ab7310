package livestormsim

// Word lists for the deterministic seed data. They aim for data that looks
// like a real webinar workspace in a demo, not for linguistic variety.

// orgPresets are the seeded workspaces, in creation order.
var orgPresets = []struct{ name, slug, domain string }{
	{"Acme Webinars", "acme-webinars", "acme-webinars.com"},
	{"Globex Events", "globex-events", "globex.com"},
	{"Initech Academy", "initech-academy", "initech.io"},
	{"Umbrella Learning", "umbrella-learning", "umbrella-learning.com"},
	{"Hooli Live", "hooli-live", "hooli.xyz"},
	{"Stark Summits", "stark-summits", "starkindustries.com"},
	{"Wayne Talks", "wayne-talks", "wayne-enterprises.com"},
	{"Soylent Sessions", "soylent-sessions", "soylent.co"},
	{"Cyberdyne Connect", "cyberdyne-connect", "cyberdyne.ai"},
	{"Wonka Workshops", "wonka-workshops", "wonka.com"},
}

var firstNames = []string{
	"Ava", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Hugo", "Chloé", "Louis", "Léa", "Gabriel",
	"Sofia", "Mateo", "Isabella", "Leo", "Amelia", "Arthur", "Charlotte", "Jules", "Zoe", "Ethan", "Inès", "Adam",
	"Hannah", "Felix", "Clara", "Paul", "Lena", "Jonas", "Maya", "Elias", "Nora", "Oscar", "Alice", "Victor",
	"Camille", "Nathan", "Manon", "Theo", "Sarah", "Samuel", "Julia", "David", "Anna", "Daniel", "Laura", "Max",
	"Grace", "Henry", "Chen", "Wei", "Yuki", "Hiro", "Priya", "Arjun", "Aisha", "Omar", "Fatima", "Youssef",
	"Lucía", "Diego", "Valentina", "Santiago", "Martina", "Pablo", "Giulia", "Marco", "Francesca", "Luca",
	"Ingrid", "Lars", "Astrid", "Erik", "Sienna", "Jack", "Ruby", "Oliver", "Isla", "Harry", "Freya", "George",
	"Elena", "Nikolai", "Amara", "Kofi", "Zara", "Rafael", "Beatriz", "Tomás", "Maëlle", "Baptiste", "Elise",
}

var lastNames = []string{
	"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
	"Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Fournier", "Rousseau", "Blanc", "Guerin", "Muller",
	"Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Smith", "Johnson",
	"Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Moore", "Jackson",
	"White", "Harris", "Clark", "Lewis", "Walker", "Young", "King", "Wright", "Scott", "Green",
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
	"González", "Rodríguez", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Díaz", "Ruiz",
	"Tanaka", "Suzuki", "Sato", "Kim", "Lee", "Park", "Nguyen", "Tran", "Patel", "Sharma",
	"Singh", "Khan", "Ali", "Hansen", "Johansson", "Nielsen", "Novak", "Kowalski", "Silva", "Santos",
}

var companies = []struct{ name, domain string }{
	{"Northwind Traders", "northwind.io"}, {"Contoso", "contoso.com"}, {"Fabrikam", "fabrikam.com"},
	{"Brightwave", "brightwave.io"}, {"Bluebird Analytics", "bluebird-analytics.com"}, {"Pinecrest Labs", "pinecrestlabs.com"},
	{"Orbital Systems", "orbital.systems"}, {"Lumen Health", "lumenhealth.org"}, {"Quantum Retail", "quantumretail.com"},
	{"Harbor Logistics", "harborlogistics.com"}, {"Evergreen Finance", "evergreen-finance.com"}, {"Atlas Robotics", "atlasrobotics.ai"},
	{"Cobalt Software", "cobalt.dev"}, {"Meridian Consulting", "meridian-consulting.com"}, {"Nimbus Cloud", "nimbuscloud.io"},
	{"Redwood Media", "redwoodmedia.co"}, {"Summit Education", "summit-edu.org"}, {"Tidal Energy", "tidalenergy.com"},
	{"Vertex Biotech", "vertexbio.com"}, {"Willow Insurance", "willowinsure.com"}, {"Zephyr Travel", "zephyrtravel.com"},
	{"Ironclad Security", "ironclad.sh"}, {"Juniper Foods", "juniperfoods.com"}, {"Keystone Partners", "keystonepartners.com"},
	{"Lighthouse HR", "lighthousehr.com"}, {"Mosaic Design", "mosaic.design"}, {"Nova Telecom", "novatelecom.net"},
	{"Oakridge Legal", "oakridgelegal.com"}, {"Polaris Aerospace", "polaris-aero.com"}, {"Sapphire Hotels", "sapphirehotels.com"},
}

var jobTitles = []string{
	"Marketing Manager", "Head of Growth", "Product Manager", "Software Engineer", "Customer Success Manager",
	"Sales Director", "Community Manager", "Event Manager", "CTO", "VP Marketing", "Content Strategist",
	"Account Executive", "Data Analyst", "HR Business Partner", "Operations Lead", "Founder",
}

var departments = []string{"Marketing", "Sales", "Engineering", "Product", "Customer Success", "Operations", "Finance", "Human Resources"}

var interestOptions = []string{"Product updates", "Best practices", "Integrations", "Case studies", "Roadmap", "Live Q&A"}

var timezones = []string{
	"Europe/Paris", "Europe/London", "Europe/Berlin", "Europe/Madrid", "America/New_York", "America/Chicago",
	"America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Asia/Kolkata",
}

var languages = []string{"en", "en", "en", "fr", "de", "es"}

var tagTitles = []string{"Product", "Marketing", "Onboarding", "Customer Success", "Engineering", "Sales", "Webinar Series", "Partners"}

var eventTopics = []string{
	"Product Tour", "Onboarding Masterclass", "Quarterly Roadmap Review", "Customer Success Live",
	"Marketing Automation 101", "Security & Compliance Briefing", "Scaling Your Webinar Program",
	"API & Integrations Deep Dive", "Hybrid Events Playbook", "Sales Enablement Bootcamp",
	"Data-Driven Engagement", "Community Office Hours", "Live Q&A with the Founders", "Release Notes Live",
	"Analytics Workshop", "Building a Content Engine", "From Leads to Revenue", "Remote Team Rituals",
	"Customer Advisory Board", "Demand Generation Summit",
}

var eventSuffixes = []string{"", "", "", ": EMEA Edition", ": Americas Edition", " 2025", ": Live", ": Part 2", " for Beginners", ": Advanced Session"}

var descriptionSentences = []string{
	"Join our experts for a practical, hands-on session.",
	"We will walk through real customer examples step by step.",
	"Bring your questions: the last fifteen minutes are dedicated to live Q&A.",
	"You will leave with a checklist you can apply the same day.",
	"A replay will be sent to every registrant after the session.",
	"Learn the frameworks our top customers use to grow engagement.",
	"Discover what is new this quarter and what is coming next.",
	"Perfect for teams who are just getting started.",
}

var chatLines = []string{
	"Hello everyone from Paris!", "Hi! Glad to be here.", "Can you share the slides afterwards?",
	"Great point about engagement metrics.", "Audio is a bit low on my side.", "Thanks, this is super useful!",
	"Is there a replay?", "We use a similar workflow internally.", "Which plan includes this feature?",
	"Greetings from Berlin 👋", "Loving the live demo.", "Could you zoom in on the dashboard?",
	"Here's the link to the docs: https://support.livestorm.co", "Welcome everyone, we start in a minute!",
}

var questionLines = []string{
	"How does this integrate with our CRM?", "Is the recording available to all registrants?",
	"What's the maximum number of attendees?", "Can we customize the registration page?",
	"How do you measure attendee engagement?", "Does it work on mobile browsers?",
	"Is there an API to export attendance?", "What are the best practices for follow-up emails?",
	"Can guests speak without creating an account?", "How long are recordings kept?",
}

var answerLines = []string{
	"Yes, there is a native integration, and the API covers the rest.",
	"Absolutely, every registrant receives the replay link by email.",
	"It depends on your plan; the largest plans go up to 3,000 live attendees.",
	"You can, from the registration settings of the event.",
	"We look at attendance rate, chat messages and questions asked.",
	"Yes, no download is needed on any device.",
}

var utmPresets = []struct{ source, medium, campaign string }{
	{"newsletter", "email", "monthly-digest"}, {"linkedin", "social", "q3-webinars"},
	{"twitter", "social", "launch-week"}, {"google", "cpc", "brand-search"}, {"partner", "referral", "co-marketing"},
}

var referrers = []string{"https://www.google.com/", "https://www.linkedin.com/", "https://twitter.com/", "https://news.ycombinator.com/"}

var clientPresets = []clientInfo{
	{"Chrome", "124.0.6367.91", "Mac OS X", "14.4", "982", "1512", "Paris", "FR", "France"},
	{"Chrome", "123.0.6312.122", "Windows", "10", "1080", "1920", "London", "GB", "United Kingdom"},
	{"Firefox", "125.0", "Linux", "", "1050", "1680", "Berlin", "DE", "Germany"},
	{"Safari", "17.4", "Mac OS X", "14.4", "900", "1440", "New York", "US", "United States"},
	{"Edge", "124.0.2478.51", "Windows", "11", "1440", "2560", "Madrid", "ES", "Spain"},
	{"Mobile Safari", "17.4", "iOS", "17.4", "844", "390", "San Francisco", "US", "United States"},
	{"Chrome Mobile", "124.0.6367.82", "Android", "14", "915", "412", "São Paulo", "BR", "Brazil"},
}
