"""Word lists for seed data. Invented names: any likeness to a real company or person is accidental."""

FIRST_NAMES = (
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Isla", "Lucas", "Nora", "Owen", "Priya", "Mateo", "Hana",
    "Caleb", "Leah", "Ravi", "Elena", "Jonah", "Amara", "Felix", "Grace", "Diego", "Ines", "Samuel", "Yara",
    "Theo", "Chloe", "Omar", "Lena", "Victor", "Aisha", "Marco", "Julia", "Kenji", "Sofia", "Adrian", "Mei",
    "Tobias", "Clara", "Rafael", "Naomi", "Hugo", "Freya", "Daniel", "Alma", "Nikhil", "Rosa", "Elliot",
    "Fatima", "Bruno", "Iris", "Tariq", "Vera", "Simon", "Lucia", "Arjun", "Greta", "Wes", "Talia", "Jasper",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Ramirez", "Chen", "Novak", "Haddad", "Morrison", "Patel", "Kowalski", "Dubois",
    "Tanaka", "Ferreira", "Nguyen", "Schultz", "Abara", "Costa", "Whitfield", "Ivanova", "Moreau", "Brennan",
    "Sato", "Alvarez", "Lund", "Mensah", "Rossi", "Kaplan", "Osei", "Herrera", "Jansen", "Quinn", "Bauer",
    "Das", "Fischer", "Gallagher", "Holm", "Ishikawa", "Keller", "Larsen", "Mahmoud", "Nakamura", "Olsen",
    "Park", "Reyes", "Singh", "Torres", "Underwood", "Varga", "Wagner", "Yilmaz", "Zimmer", "Abbott",
    "Becker", "Castillo", "Dalton", "Eriksen", "Fontaine", "Garner", "Hayes", "Ibarra", "Jovanovic",
)
COMPANY_STEMS = (
    "Alderbrook", "Bluefen", "Cobalt Ridge", "Driftwood", "Emberline", "Fernhill", "Glasswing", "Harborlight",
    "Ironbark", "Juniper Peak", "Kestrel", "Lanternfish", "Marigold", "Northcove", "Oakhaven", "Pinecrest",
    "Quarry Lane", "Redwater", "Silverleaf", "Tidewater", "Umberfield", "Valemont", "Willowmere", "Yarrow",
)
COMPANY_SUFFIXES = ("Systems", "Analytics", "Logistics", "Health", "Robotics", "Foods", "Energy", "Labs")
INDUSTRIES = ("Software", "Logistics", "Healthcare", "Manufacturing", "Financial Services", "Retail",
              "Energy", "Education", "Biotechnology", "Media")
LOCALITIES = (("Seattle", "Washington", "USA", "America/Los_Angeles"),
              ("Austin", "Texas", "USA", "America/Chicago"),
              ("Boston", "Massachusetts", "USA", "America/New_York"),
              ("Denver", "Colorado", "USA", "America/Denver"),
              ("Toronto", "Ontario", "Canada", "America/Toronto"),
              ("London", "England", "United Kingdom", "Europe/London"),
              ("Berlin", "Berlin", "Germany", "Europe/Berlin"),
              ("Dublin", "Leinster", "Ireland", "Europe/Dublin"))
TITLES = ("VP of Sales", "Head of Operations", "Director of Engineering", "Procurement Manager", "CFO",
          "IT Manager", "Marketing Director", "Chief of Staff", "Revenue Operations Lead", "Account Director",
          "Product Manager", "Data Engineer", "Customer Success Manager", "COO", "Sales Development Rep")
PROSPECT_TAGS = ("Inbound", "Webinar 2024", "Trade Show", "Tier 1", "Champion", "Needs Follow-up",
                 "Enterprise", "Mid-Market", "Referral", "Expansion")
SOURCES = ("Website", "Webinar", "Referral", "Conference", "Outbound", "Partner")
USER_TITLES = ("Sales Director", "Account Executive", "Sales Development Rep", "Sales Manager",
               "Customer Success Manager", "Revenue Operations Analyst")
STAGES = (("Cold", "#9aa5b1"), ("Approaching", "#5951ff"), ("Replied", "#2bb673"), ("Interested", "#f5a623"),
          ("Not Interested", "#d0021b"), ("Unresponsive", "#8b572a"), ("Qualified", "#417505"))
OPPORTUNITY_STAGES = (("Prospecting", False), ("Qualification", False), ("Needs Analysis", False),
                      ("Proposal", False), ("Negotiation", False), ("Closed Won", True), ("Closed Lost", True))
CALL_DISPOSITIONS = (("Meeting Scheduled", "completed"), ("Interested", "completed"),
                     ("Not Interested", "completed"), ("Left Voicemail", "no_answer"),
                     ("No Answer", "no_answer"), ("Wrong Number", "no_answer"))
CALL_PURPOSES = ("Initial Contact", "Follow-up", "Discovery", "Demo Scheduling")
TASK_PRIORITIES = (("High", 0xFFD0021B, 1), ("Normal", 0xFF5951FF, 2), ("Low", 0xFF9AA5B1, 3))
SEQUENCE_NAMES = ("Inbound Lead Follow-up", "Q1 Outbound — Logistics", "Webinar Attendees", "Re-engage Cold",
                  "Enterprise Champions", "Trial Conversion", "Event Invite", "Renewal Check-in")
STEP_TYPES = ("auto_email", "call", "manual_email", "task")
TEMPLATE_SUBJECTS = ("Quick question about {company}", "Following up", "Ideas for your team",
                     "Worth a conversation?", "Recap from our call", "Invitation: product webinar",
                     "Checking in", "A short case study")
ROLES = ("Decision Maker", "Champion", "Economic Buyer", "Technical Evaluator", "Influencer")
PRODUCTS = ("Platform", "Analytics add-on", "Expansion", "Renewal", "Pilot")
EVENT_NAMES = ("prospect_created", "mailing_delivered", "mailing_opened", "mailing_replied", "call_completed",
               "task_completed", "sequence_state_created", "prospect_updated")
AUDIT_EVENTS = ("login", "logout", "authUpdate", "loginFailure", "pluginUpdate", "permission-grantUpdate")
