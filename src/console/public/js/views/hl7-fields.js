/**
 * Names of the fields of the segments an ORU^R01 and its acknowledgement carry, HL7 v2.5.1
 * (chapters 2, 3, 4 and 7), for the segment grid's hover: `fieldName('OBX', 5)` is
 * 'Observation Value'.
 */
const FIELDS = {
  MSH: [
    'Field Separator', 'Encoding Characters', 'Sending Application', 'Sending Facility', 'Receiving Application', 'Receiving Facility',
    'Date/Time of Message', 'Security', 'Message Type', 'Message Control ID', 'Processing ID', 'Version ID', 'Sequence Number',
    'Continuation Pointer', 'Accept Acknowledgment Type', 'Application Acknowledgment Type', 'Country Code', 'Character Set',
    'Principal Language of Message', 'Alternate Character Set Handling Scheme', 'Message Profile Identifier',
  ],
  SFT: ['Software Vendor Organization', 'Software Certified Version or Release Number', 'Software Product Name', 'Software Binary ID', 'Software Product Information', 'Software Install Date'],
  MSA: ['Acknowledgment Code', 'Message Control ID', 'Text Message', 'Expected Sequence Number', 'Delayed Acknowledgment Type', 'Error Condition'],
  ERR: [
    'Error Code and Location', 'Error Location', 'HL7 Error Code', 'Severity', 'Application Error Code', 'Application Error Parameter',
    'Diagnostic Information', 'User Message', 'Inform Person Indicator', 'Override Type', 'Override Reason Code', 'Help Desk Contact Point',
  ],
  PID: [
    'Set ID - PID', 'Patient ID', 'Patient Identifier List', 'Alternate Patient ID - PID', 'Patient Name', "Mother's Maiden Name",
    'Date/Time of Birth', 'Administrative Sex', 'Patient Alias', 'Race', 'Patient Address', 'County Code', 'Phone Number - Home',
    'Phone Number - Business', 'Primary Language', 'Marital Status', 'Religion', 'Patient Account Number', 'SSN Number - Patient',
    "Driver's License Number - Patient", "Mother's Identifier", 'Ethnic Group', 'Birth Place', 'Multiple Birth Indicator', 'Birth Order',
    'Citizenship', 'Veterans Military Status', 'Nationality', 'Patient Death Date and Time', 'Patient Death Indicator',
    'Identity Unknown Indicator', 'Identity Reliability Code', 'Last Update Date/Time', 'Last Update Facility', 'Species Code',
    'Breed Code', 'Strain', 'Production Class Code', 'Tribal Citizenship',
  ],
  PV1: [
    'Set ID - PV1', 'Patient Class', 'Assigned Patient Location', 'Admission Type', 'Preadmit Number', 'Prior Patient Location',
    'Attending Doctor', 'Referring Doctor', 'Consulting Doctor', 'Hospital Service', 'Temporary Location', 'Preadmit Test Indicator',
    'Re-admission Indicator', 'Admit Source', 'Ambulatory Status', 'VIP Indicator', 'Admitting Doctor', 'Patient Type', 'Visit Number',
  ],
  ORC: [
    'Order Control', 'Placer Order Number', 'Filler Order Number', 'Placer Group Number', 'Order Status', 'Response Flag', 'Quantity/Timing',
    'Parent', 'Date/Time of Transaction', 'Entered By', 'Verified By', 'Ordering Provider', "Enterer's Location", 'Call Back Phone Number',
    'Order Effective Date/Time', 'Order Control Code Reason', 'Entering Organization', 'Entering Device', 'Action By',
    'Advanced Beneficiary Notice Code', 'Ordering Facility Name', 'Ordering Facility Address', 'Ordering Facility Phone Number',
    'Ordering Provider Address', 'Order Status Modifier', 'Advanced Beneficiary Notice Override Reason',
    "Filler's Expected Availability Date/Time", 'Confidentiality Code', 'Order Type', 'Enterer Authorization Mode',
    'Parent Universal Service Identifier',
  ],
  OBR: [
    'Set ID - OBR', 'Placer Order Number', 'Filler Order Number', 'Universal Service Identifier', 'Priority - OBR', 'Requested Date/Time',
    'Observation Date/Time', 'Observation End Date/Time', 'Collection Volume', 'Collector Identifier', 'Specimen Action Code',
    'Danger Code', 'Relevant Clinical Information', 'Specimen Received Date/Time', 'Specimen Source', 'Ordering Provider',
    'Order Callback Phone Number', 'Placer Field 1', 'Placer Field 2', 'Filler Field 1', 'Filler Field 2',
    'Results Rpt/Status Chng - Date/Time', 'Charge to Practice', 'Diagnostic Serv Sect ID', 'Result Status', 'Parent Result',
    'Quantity/Timing', 'Result Copies To', 'Parent', 'Transportation Mode', 'Reason for Study', 'Principal Result Interpreter',
    'Assistant Result Interpreter', 'Technician', 'Transcriptionist', 'Scheduled Date/Time', 'Number of Sample Containers',
    'Transport Logistics of Collected Sample', "Collector's Comment", 'Transport Arrangement Responsibility', 'Transport Arranged',
    'Escort Required', 'Planned Patient Transport Comment', 'Procedure Code', 'Procedure Code Modifier',
    'Placer Supplemental Service Information', 'Filler Supplemental Service Information',
    'Medically Necessary Duplicate Procedure Reason', 'Result Handling', 'Parent Universal Service Identifier',
  ],
  TQ1: [
    'Set ID - TQ1', 'Quantity', 'Repeat Pattern', 'Explicit Time', 'Relative Time and Units', 'Service Duration', 'Start Date/Time',
    'End Date/Time', 'Priority', 'Condition Text', 'Text Instruction', 'Conjunction', 'Occurrence Duration', 'Total Occurrences',
  ],
  OBX: [
    'Set ID - OBX', 'Value Type', 'Observation Identifier', 'Observation Sub-ID', 'Observation Value', 'Units', 'References Range',
    'Abnormal Flags', 'Probability', 'Nature of Abnormal Test', 'Observation Result Status', 'Effective Date of Reference Range',
    'User Defined Access Checks', 'Date/Time of the Observation', "Producer's ID", 'Responsible Observer', 'Observation Method',
    'Equipment Instance Identifier', 'Date/Time of the Analysis', 'Reserved for harmonization with V2.6',
    'Reserved for harmonization with V2.6', 'Reserved for harmonization with V2.6', 'Performing Organization Name',
    'Performing Organization Address', 'Performing Organization Medical Director',
  ],
  NTE: ['Set ID - NTE', 'Source of Comment', 'Comment', 'Comment Type'],
  SPM: [
    'Set ID - SPM', 'Specimen ID', 'Specimen Parent IDs', 'Specimen Type', 'Specimen Type Modifier', 'Specimen Additives',
    'Specimen Collection Method', 'Specimen Source Site', 'Specimen Source Site Modifier', 'Specimen Collection Site', 'Specimen Role',
    'Specimen Collection Amount', 'Grouped Specimen Count', 'Specimen Description', 'Specimen Handling Code', 'Specimen Risk Code',
    'Specimen Collection Date/Time', 'Specimen Received Date/Time', 'Specimen Expiration Date/Time', 'Specimen Availability',
    'Specimen Reject Reason', 'Specimen Quality', 'Specimen Appropriateness', 'Specimen Condition', 'Specimen Current Quantity',
    'Number of Specimen Containers', 'Container Type', 'Container Condition', 'Specimen Child Role',
  ],
};

export function fieldName(segment, n) {
  return FIELDS[segment]?.[n - 1];
}
