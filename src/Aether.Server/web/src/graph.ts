// The lab as a graph (Cytoscape.js): nodes with kind and host, links coloured and styled by state and labelled with
// it. Positions are kept across updates; the layout runs again only when the nodes change.
import cytoscape, { type Core } from 'cytoscape';
import { elementsOf, type LabView } from './model';

export class LabGraph {
  private cy: Core;
  private nodesKey = '';

  constructor(container: HTMLElement, onSelect: (linkId: string) => void) {
    this.cy = cytoscape({
      container,
      wheelSensitivity: 0.3,
      boxSelectionEnabled: false,
      style: [
        {
          selector: 'node',
          style: {
            shape: 'round-rectangle',
            'background-color': '#f6f8fa',
            'border-color': '#24292f',
            'border-width': 2,
            label: 'data(label)',
            'text-wrap': 'wrap',
            'text-valign': 'center',
            'font-size': 12,
            width: 110,
            height: 58,
            color: '#24292f',
          },
        },
        { selector: 'node[present = "no"]', style: { 'border-style': 'dashed', 'border-color': '#cf222e' } },
        {
          selector: 'edge',
          style: {
            'curve-style': 'bezier',
            width: 4,
            'line-color': 'data(colour)',
            'line-style': 'data(line)' as never,
            label: 'data(label)',
            'font-size': 11,
            'font-weight': 'bold',
            color: 'data(colour)',
            'text-background-color': '#ffffff',
            'text-background-opacity': 1,
            'text-background-padding': '2px',
            'source-label': 'data(sourceLabel)',
            'target-label': 'data(targetLabel)',
            'source-text-offset': 40,
            'target-text-offset': 40,
            'text-rotation': 'none',
          },
        },
        { selector: 'edge[state = "error"]', style: { width: 7 } },
        { selector: 'edge:selected', style: { 'underlay-color': '#0969da', 'underlay-opacity': 0.3, 'underlay-padding': 5 } },
      ],
    });
    this.cy.on('tap', 'edge', (e) => onSelect(e.target.data('link') as string));
  }

  /** Updates the graph to `view`: data in place, the layout again when the nodes changed. */
  update(view: LabView): void {
    const elements = elementsOf(view);
    const wanted = new Set(elements.map((e) => String(e.data.id)));
    this.cy.batch(() => {
      this.cy.elements().forEach((e) => {
        if (!wanted.has(e.id())) e.remove();
      });
      for (const element of elements) {
        const existing = this.cy.getElementById(String(element.data.id));
        if (existing.nonempty()) existing.data(element.data);
        else this.cy.add(element as cytoscape.ElementDefinition);
      }
    });
    const key = view.nodes.map((n) => n.name).join(',');
    if (key !== this.nodesKey) {
      this.nodesKey = key;
      this.cy.layout(view.nodes.length <= 8 ? { name: 'circle', padding: 40 } : { name: 'cose', animate: false, padding: 30 }).run();
      this.cy.fit(undefined, 40);
    }
  }

  select(linkId: string | null): void {
    this.cy.edges().unselect();
    if (linkId) this.cy.getElementById(`link:${linkId}`).select();
  }

  resize(): void {
    this.cy.resize();
    this.cy.fit(undefined, 40);
  }

  /** The edges' states, for tests and the page's own checks. */
  states(): Record<string, string> {
    const out: Record<string, string> = {};
    this.cy.edges().forEach((e) => {
      out[e.data('link') as string] = e.data('state') as string;
    });
    return out;
  }

  nodes(): string[] {
    return this.cy.nodes().map((n) => n.data('name') as string);
  }
}
